-- CreateTable
CREATE TABLE "ConsumptionInvoice" (
    "accountId" INTEGER NOT NULL,
    "month" CHAR(7) NOT NULL,
    "invoiceNumber" TEXT NOT NULL,
    "chargesCount" INTEGER NOT NULL,
    "totalInclVatCents" INTEGER NOT NULL,
    "mailedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConsumptionInvoice_pkey" PRIMARY KEY ("accountId","month")
);

-- CreateTable
CREATE TABLE "ConsumptionInvoiceEntry" (
    "creditEntryId" BIGINT NOT NULL,
    "accountId" INTEGER NOT NULL,
    "month" CHAR(7) NOT NULL,

    CONSTRAINT "ConsumptionInvoiceEntry_pkey" PRIMARY KEY ("creditEntryId")
);

-- CreateTable
CREATE TABLE "UnpaidAppFee" (
    "id" UUID NOT NULL,
    "accountId" INTEGER NOT NULL,
    "accountAppId" UUID NOT NULL,
    "month" CHAR(7) NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "label" TEXT NOT NULL,
    "refusedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastTriedAt" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "notifiedAt" TIMESTAMP(3),
    "paidAt" TIMESTAMP(3),
    "creditEntryId" BIGINT,

    CONSTRAINT "UnpaidAppFee_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ConsumptionInvoice_invoiceNumber_key" ON "ConsumptionInvoice"("invoiceNumber");

-- CreateIndex
CREATE INDEX "ConsumptionInvoiceEntry_accountId_month_idx" ON "ConsumptionInvoiceEntry"("accountId", "month");

-- CreateIndex
CREATE INDEX "UnpaidAppFee_paidAt_month_idx" ON "UnpaidAppFee"("paidAt", "month");

-- CreateIndex
CREATE INDEX "UnpaidAppFee_accountId_idx" ON "UnpaidAppFee"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "UnpaidAppFee_accountAppId_month_key" ON "UnpaidAppFee"("accountAppId", "month");

