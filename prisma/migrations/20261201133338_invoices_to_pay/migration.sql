-- CreateEnum
CREATE TYPE "InvoiceToPayStatus" AS ENUM ('OPEN', 'PAID', 'UNPAID', 'CANCELLED');

-- CreateTable
CREATE TABLE "InvoiceToPay" (
    "id" UUID NOT NULL,
    "licenceId" UUID NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "paymentMethod" "PaymentMethod" NOT NULL,
    "periodStart" CHAR(10) NOT NULL,
    "periodEnd" CHAR(10) NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "dueOn" CHAR(10) NOT NULL,
    "origin" TEXT NOT NULL,
    "remindersSent" INTEGER NOT NULL DEFAULT 0,
    "status" "InvoiceToPayStatus" NOT NULL DEFAULT 'OPEN',
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "InvoiceToPay_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "InvoiceToPay_status_dueOn_idx" ON "InvoiceToPay"("status", "dueOn");

-- CreateIndex
CREATE INDEX "InvoiceToPay_baseId_status_idx" ON "InvoiceToPay"("baseId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "InvoiceToPay_licenceId_periodStart_key" ON "InvoiceToPay"("licenceId", "periodStart");

