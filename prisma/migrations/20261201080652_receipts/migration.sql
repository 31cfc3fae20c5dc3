-- CreateTable
CREATE TABLE "ReceiptSequence" (
    "year" INTEGER NOT NULL,
    "lastSeq" INTEGER NOT NULL,

    CONSTRAINT "ReceiptSequence_pkey" PRIMARY KEY ("year")
);

-- CreateTable
CREATE TABLE "Receipt" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "creditPurchaseId" UUID NOT NULL,
    "accountId" INTEGER NOT NULL,
    "issueDate" CHAR(10) NOT NULL,
    "seller" JSONB NOT NULL,
    "buyer" JSONB NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "creditAmount" INTEGER NOT NULL,
    "paidAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Receipt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Receipt_number_key" ON "Receipt"("number");

-- CreateIndex
CREATE UNIQUE INDEX "Receipt_creditPurchaseId_key" ON "Receipt"("creditPurchaseId");

-- CreateIndex
CREATE INDEX "Receipt_accountId_idx" ON "Receipt"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "Receipt_year_seq_key" ON "Receipt"("year", "seq");

