-- CreateEnum
CREATE TYPE "DisputeKind" AS ENUM ('DISPUTE', 'EARLY_FRAUD_WARNING');

-- CreateEnum
CREATE TYPE "DisputeOutcome" AS ENUM ('OPEN', 'WON', 'LOST', 'CLOSED');

-- CreateTable
CREATE TABLE "Dispute" (
    "id" UUID NOT NULL,
    "kind" "DisputeKind" NOT NULL,
    "stripeId" TEXT NOT NULL,
    "chargeId" TEXT,
    "paymentIntentId" TEXT,
    "paymentId" UUID,
    "baseId" CHAR(17),
    "licenceId" UUID,
    "creditPurchaseId" UUID,
    "accountId" INTEGER,
    "amountCents" INTEGER NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'EUR',
    "reason" TEXT,
    "stripeStatus" TEXT NOT NULL,
    "outcome" "DisputeOutcome" NOT NULL,
    "evidenceDueBy" TIMESTAMP(3),
    "lastEventAt" TIMESTAMP(3) NOT NULL,
    "lastEventId" TEXT NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),
    "reversedAt" TIMESTAMP(3),
    "reversalCents" INTEGER,
    "creditNoteNumber" TEXT,
    "licenceAction" TEXT,
    "creditDebited" INTEGER,
    "acknowledgedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Dispute_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Dispute_stripeId_key" ON "Dispute"("stripeId");

-- CreateIndex
CREATE INDEX "Dispute_outcome_evidenceDueBy_idx" ON "Dispute"("outcome", "evidenceDueBy");

-- CreateIndex
CREATE INDEX "Dispute_paymentIntentId_idx" ON "Dispute"("paymentIntentId");

