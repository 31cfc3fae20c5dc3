-- CreateEnum
CREATE TYPE "LicenceMigrationStatus" AS ENUM ('RUNNING', 'COMPLETED', 'REFUSED');

-- CreateTable
CREATE TABLE "LicenceMigration" (
    "id" UUID NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "v15LicenceId" UUID NOT NULL,
    "a1LicenceId" UUID,
    "status" "LicenceMigrationStatus" NOT NULL,
    "refusalCode" TEXT,
    "refusalMessage" TEXT,
    "endDate" CHAR(10) NOT NULL,
    "edition" "Edition" NOT NULL,
    "mode" "LicenceMode" NOT NULL,
    "connections" INTEGER NOT NULL,
    "email" TEXT NOT NULL,
    "requestedByType" TEXT NOT NULL,
    "requestedById" TEXT,
    "overrideReason" TEXT,
    "overriddenBy" TEXT,
    "workflowId" TEXT NOT NULL,
    "confirmationSentAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "LicenceMigration_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LicenceMigration_baseId_key" ON "LicenceMigration"("baseId");

-- CreateIndex
CREATE UNIQUE INDEX "LicenceMigration_v15LicenceId_key" ON "LicenceMigration"("v15LicenceId");

-- CreateIndex
CREATE UNIQUE INDEX "LicenceMigration_a1LicenceId_key" ON "LicenceMigration"("a1LicenceId");

-- CreateIndex
CREATE INDEX "LicenceMigration_status_createdAt_idx" ON "LicenceMigration"("status", "createdAt");

