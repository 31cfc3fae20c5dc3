-- CreateEnum
CREATE TYPE "SepaMandateStatus" AS ENUM ('SUBMITTED', 'ACTIVE', 'REPLACED', 'REVOKED');

-- CreateTable
CREATE TABLE "SepaMandate" (
    "id" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "paymentMethodId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "licenceId" UUID,
    "purchaseId" UUID,
    "status" "SepaMandateStatus" NOT NULL DEFAULT 'SUBMITTED',
    "holderName" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "ibanLast4" TEXT NOT NULL,
    "bankCode" TEXT,
    "country" TEXT NOT NULL,
    "mandateText" TEXT NOT NULL,
    "textVersion" TEXT NOT NULL,
    "acceptedAt" TIMESTAMP(3) NOT NULL,
    "ipAddress" TEXT NOT NULL,
    "userAgent" TEXT NOT NULL,
    "replacedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "revokedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SepaMandate_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "SepaMandate_paymentMethodId_key" ON "SepaMandate"("paymentMethodId");

-- CreateIndex
CREATE INDEX "SepaMandate_licenceId_status_idx" ON "SepaMandate"("licenceId", "status");

-- CreateIndex
CREATE INDEX "SepaMandate_purchaseId_idx" ON "SepaMandate"("purchaseId");

