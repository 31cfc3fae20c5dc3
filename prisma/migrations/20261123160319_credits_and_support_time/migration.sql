-- CreateEnum
CREATE TYPE "CreditLedger" AS ENUM ('SUPPORT_TIME', 'WALLET');

-- CreateEnum
CREATE TYPE "CreditProduct" AS ENUM ('SUPPORT_PACK', 'WALLET_RECHARGE');

-- CreateEnum
CREATE TYPE "CreditPurchaseStatus" AS ENUM ('AWAITING_PAYMENT', 'UNMATCHED', 'COMPLETED', 'EXPIRED', 'CANCELLED', 'REFUNDED');

-- AlterTable
ALTER TABLE "Invoice" ADD COLUMN     "accountId" INTEGER,
ALTER COLUMN "baseId" DROP NOT NULL;

-- CreateTable
CREATE TABLE "CreditBalance" (
    "accountId" INTEGER NOT NULL,
    "ledger" "CreditLedger" NOT NULL,
    "balance" INTEGER NOT NULL DEFAULT 0,
    "overdraftLimit" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CreditBalance_pkey" PRIMARY KEY ("accountId","ledger")
);

-- CreateTable
CREATE TABLE "CreditEntry" (
    "id" BIGSERIAL NOT NULL,
    "accountId" INTEGER NOT NULL,
    "ledger" "CreditLedger" NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "balanceAfter" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "description" TEXT,
    "site" TEXT,
    "staff" TEXT,
    "baseId" CHAR(17),
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "creditPurchaseId" UUID,
    "supportCallId" UUID,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,

    CONSTRAINT "CreditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CreditPurchase" (
    "id" UUID NOT NULL,
    "number" SERIAL NOT NULL,
    "clientKey" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "product" "CreditProduct" NOT NULL,
    "packMinutes" INTEGER,
    "creditAmount" INTEGER NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "quote" JSONB,
    "billing" JSONB NOT NULL,
    "accountId" INTEGER,
    "claimedAccountId" INTEGER,
    "baseId" CHAR(17),
    "status" "CreditPurchaseStatus" NOT NULL,
    "workflowId" TEXT NOT NULL,
    "stripePaymentIntentId" TEXT,
    "paidAt" TIMESTAMP(3),
    "invoiceNumber" TEXT,
    "receiptNumber" TEXT,
    "creditedAt" TIMESTAMP(3),
    "assignedBy" TEXT,
    "closedReason" TEXT,
    "closedBy" TEXT,
    "refundId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CreditPurchase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SupportCall" (
    "id" UUID NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "accountId" INTEGER NOT NULL,
    "baseId" CHAR(17),
    "technician" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "durationSeconds" INTEGER NOT NULL,
    "billable" BOOLEAN NOT NULL,
    "causedBySoftware" BOOLEAN NOT NULL,
    "cloudIncluded" BOOLEAN NOT NULL,
    "deductedSeconds" INTEGER NOT NULL,
    "balanceAfterSeconds" INTEGER NOT NULL,
    "calledAt" TIMESTAMP(3) NOT NULL,
    "recordedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SupportCall_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccountApp" (
    "id" UUID NOT NULL,
    "accountId" INTEGER NOT NULL,
    "app" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "monthlyFeeCents" INTEGER NOT NULL,
    "site" TEXT,
    "staff" TEXT,
    "sinceMonth" CHAR(7) NOT NULL,
    "untilMonth" CHAR(7),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AccountApp_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CreditEntry_idempotencyKey_key" ON "CreditEntry"("idempotencyKey");

-- CreateIndex
CREATE INDEX "CreditEntry_accountId_ledger_occurredAt_id_idx" ON "CreditEntry"("accountId", "ledger", "occurredAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "CreditPurchase_number_key" ON "CreditPurchase"("number");

-- CreateIndex
CREATE UNIQUE INDEX "CreditPurchase_clientKey_key" ON "CreditPurchase"("clientKey");

-- CreateIndex
CREATE INDEX "CreditPurchase_status_createdAt_idx" ON "CreditPurchase"("status", "createdAt");

-- CreateIndex
CREATE INDEX "CreditPurchase_accountId_idx" ON "CreditPurchase"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "SupportCall_idempotencyKey_key" ON "SupportCall"("idempotencyKey");

-- CreateIndex
CREATE INDEX "SupportCall_accountId_calledAt_idx" ON "SupportCall"("accountId", "calledAt");

-- CreateIndex
CREATE INDEX "AccountApp_accountId_idx" ON "AccountApp"("accountId");

