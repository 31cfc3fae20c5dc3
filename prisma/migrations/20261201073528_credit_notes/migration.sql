-- CreateEnum
CREATE TYPE "CreditNoteKind" AS ENUM ('GOODWILL', 'REFUND', 'CANCELLATION', 'DISPUTE');

-- CreateTable
CREATE TABLE "CreditNoteSequence" (
    "year" INTEGER NOT NULL,
    "lastSeq" INTEGER NOT NULL,

    CONSTRAINT "CreditNoteSequence_pkey" PRIMARY KEY ("year")
);

-- CreateTable
CREATE TABLE "CreditNote" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "kind" "CreditNoteKind" NOT NULL,
    "reason" TEXT NOT NULL,
    "invoiceId" UUID NOT NULL,
    "baseId" CHAR(17),
    "accountId" INTEGER,
    "issueDate" CHAR(10) NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'EUR',
    "seller" JSONB NOT NULL,
    "buyer" JSONB NOT NULL,
    "lines" JSONB NOT NULL,
    "vat" JSONB NOT NULL,
    "totalExclVatCents" INTEGER NOT NULL,
    "vatCents" INTEGER NOT NULL,
    "totalInclVatCents" INTEGER NOT NULL,
    "refundedAt" TIMESTAMP(3),
    "issuedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CreditNote_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CreditNote_number_key" ON "CreditNote"("number");

-- CreateIndex
CREATE UNIQUE INDEX "CreditNote_idempotencyKey_key" ON "CreditNote"("idempotencyKey");

-- CreateIndex
CREATE INDEX "CreditNote_invoiceId_idx" ON "CreditNote"("invoiceId");

-- CreateIndex
CREATE INDEX "CreditNote_baseId_idx" ON "CreditNote"("baseId");

-- CreateIndex
CREATE INDEX "CreditNote_accountId_idx" ON "CreditNote"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "CreditNote_year_seq_key" ON "CreditNote"("year", "seq");

-- AddForeignKey
ALTER TABLE "CreditNote" ADD CONSTRAINT "CreditNote_invoiceId_fkey" FOREIGN KEY ("invoiceId") REFERENCES "Invoice"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

