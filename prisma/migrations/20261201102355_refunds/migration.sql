-- CreateEnum
CREATE TYPE "RefundKind" AS ENUM ('REFUND', 'DISPUTE');

-- CreateEnum
CREATE TYPE "RefundStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "Refund" (
    "id" UUID NOT NULL,
    "workflowKey" TEXT NOT NULL,
    "kind" "RefundKind" NOT NULL DEFAULT 'REFUND',
    "paymentId" UUID NOT NULL,
    "creditPurchaseId" UUID,
    "accountId" INTEGER,
    "baseId" CHAR(17),
    "amountCents" INTEGER NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'EUR',
    "debitedCredit" INTEGER NOT NULL DEFAULT 0,
    "creditEntryId" BIGINT,
    "creditNoteNumber" TEXT,
    "provider" TEXT NOT NULL,
    "providerRefundId" TEXT,
    "providerStatus" TEXT,
    "status" "RefundStatus" NOT NULL DEFAULT 'PENDING',
    "reason" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "refundedAt" TIMESTAMP(3),

    CONSTRAINT "Refund_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Refund_workflowKey_key" ON "Refund"("workflowKey");

-- CreateIndex
CREATE UNIQUE INDEX "Refund_providerRefundId_key" ON "Refund"("providerRefundId");

-- CreateIndex
CREATE INDEX "Refund_paymentId_idx" ON "Refund"("paymentId");

-- CreateIndex
CREATE INDEX "Refund_creditPurchaseId_idx" ON "Refund"("creditPurchaseId");

-- AddForeignKey
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

