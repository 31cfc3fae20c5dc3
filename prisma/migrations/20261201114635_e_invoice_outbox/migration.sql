-- CreateEnum
CREATE TYPE "EInvoiceDocumentKind" AS ENUM ('INVOICE', 'CREDIT_NOTE');

-- CreateEnum
CREATE TYPE "EInvoiceFlow" AS ENUM ('E_INVOICE', 'E_REPORTING');

-- CreateEnum
CREATE TYPE "EInvoiceStatus" AS ENUM ('QUEUED', 'SENT', 'DEPOSITED', 'REJECTED', 'REFUSED', 'PAID');

-- CreateTable
CREATE TABLE "EInvoiceOutbox" (
    "id" UUID NOT NULL,
    "documentKind" "EInvoiceDocumentKind" NOT NULL,
    "documentNumber" TEXT NOT NULL,
    "flow" "EInvoiceFlow" NOT NULL,
    "pdfPath" TEXT NOT NULL,
    "status" "EInvoiceStatus" NOT NULL DEFAULT 'QUEUED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "platformId" TEXT,
    "lastAnswer" JSONB,
    "lastError" TEXT,
    "sentAt" TIMESTAMP(3),
    "statusAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EInvoiceOutbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EInvoiceOutbox_status_createdAt_idx" ON "EInvoiceOutbox"("status", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "EInvoiceOutbox_documentKind_documentNumber_key" ON "EInvoiceOutbox"("documentKind", "documentNumber");

