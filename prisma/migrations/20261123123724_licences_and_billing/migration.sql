-- CreateEnum
CREATE TYPE "ProductVersion" AS ENUM ('V15', 'A1');

-- CreateEnum
CREATE TYPE "Edition" AS ENUM ('STANDARD', 'ENTERPRISE');

-- CreateEnum
CREATE TYPE "LicenceMode" AS ENUM ('LOCAL', 'CLOUD');

-- CreateEnum
CREATE TYPE "BillingPeriod" AS ENUM ('MONTHLY', 'QUARTERLY', 'ANNUAL');

-- CreateEnum
CREATE TYPE "LicenceStatus" AS ENUM ('PENDING', 'ACTIVE', 'PAST_DUE', 'SUSPENDED', 'ENDED', 'CANCELLED', 'TRANSFERRED');

-- CreateEnum
CREATE TYPE "PaymentMethod" AS ENUM ('ONLINE', 'CHEQUE', 'TRANSFER', 'FREE');

-- CreateEnum
CREATE TYPE "PurchaseStatus" AS ENUM ('AWAITING_PAYMENT', 'AWAITING_OPS', 'COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED');

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('SUCCEEDED', 'FAILED');

-- CreateEnum
CREATE TYPE "InvoiceStatus" AS ENUM ('PAID', 'CANCELLED');

-- CreateTable
CREATE TABLE "CatalogVersion" (
    "id" SERIAL NOT NULL,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT NOT NULL,

    CONSTRAINT "CatalogVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Licence" (
    "id" UUID NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "version" "ProductVersion" NOT NULL DEFAULT 'A1',
    "edition" "Edition" NOT NULL,
    "mode" "LicenceMode" NOT NULL,
    "connections" INTEGER NOT NULL,
    "period" "BillingPeriod",
    "status" "LicenceStatus" NOT NULL,
    "anchorDate" CHAR(10),
    "periodStart" CHAR(10),
    "periodEnd" CHAR(10),
    "autoRenew" BOOLEAN NOT NULL DEFAULT false,
    "paymentMethod" "PaymentMethod",
    "holderName" TEXT NOT NULL,
    "holderAccountId" INTEGER,
    "billing" JSONB,
    "stripeCustomerId" TEXT,
    "stripePaymentMethodId" TEXT,
    "workflowId" TEXT,
    "transferredToId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Licence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Purchase" (
    "id" UUID NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "clientKey" TEXT NOT NULL,
    "licenceId" UUID,
    "edition" "Edition" NOT NULL,
    "mode" "LicenceMode" NOT NULL,
    "connections" INTEGER NOT NULL,
    "period" "BillingPeriod" NOT NULL,
    "paymentMethod" "PaymentMethod" NOT NULL,
    "status" "PurchaseStatus" NOT NULL,
    "billing" JSONB NOT NULL,
    "quote" JSONB NOT NULL,
    "totalInclVatCents" INTEGER NOT NULL,
    "termsVersion" TEXT NOT NULL,
    "termsAcceptedAt" TIMESTAMP(3) NOT NULL,
    "freeCategory" TEXT,
    "freeJustification" TEXT,
    "decisionReason" TEXT,
    "decidedBy" TEXT,
    "stripePaymentIntentId" TEXT,
    "workflowId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Purchase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Payment" (
    "id" UUID NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "licenceId" UUID,
    "purchaseId" UUID,
    "method" "PaymentMethod" NOT NULL,
    "provider" TEXT NOT NULL,
    "providerRef" TEXT,
    "amountCents" INTEGER NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'EUR',
    "status" "PaymentStatus" NOT NULL,
    "failureCode" TEXT,
    "failureMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Payment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InvoiceSequence" (
    "year" INTEGER NOT NULL,
    "lastSeq" INTEGER NOT NULL,

    CONSTRAINT "InvoiceSequence_pkey" PRIMARY KEY ("year")
);

-- CreateTable
CREATE TABLE "Invoice" (
    "id" UUID NOT NULL,
    "number" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "status" "InvoiceStatus" NOT NULL DEFAULT 'PAID',
    "baseId" CHAR(17) NOT NULL,
    "licenceId" UUID,
    "purchaseId" UUID,
    "paymentId" UUID,
    "issueDate" CHAR(10) NOT NULL,
    "saleDate" CHAR(10) NOT NULL,
    "dueDate" CHAR(10) NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'EUR',
    "seller" JSONB NOT NULL,
    "buyer" JSONB NOT NULL,
    "lines" JSONB NOT NULL,
    "vat" JSONB NOT NULL,
    "totalExclVatCents" INTEGER NOT NULL,
    "vatCents" INTEGER NOT NULL,
    "totalInclVatCents" INTEGER NOT NULL,
    "paidAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeEvent" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StripeEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Licence_baseId_createdAt_idx" ON "Licence"("baseId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_baseId_clientKey_key" ON "Purchase"("baseId", "clientKey");

-- CreateIndex
CREATE UNIQUE INDEX "Payment_idempotencyKey_key" ON "Payment"("idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_number_key" ON "Invoice"("number");

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_paymentId_key" ON "Invoice"("paymentId");

-- CreateIndex
CREATE INDEX "Invoice_baseId_idx" ON "Invoice"("baseId");

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_year_seq_key" ON "Invoice"("year", "seq");

-- AddForeignKey
ALTER TABLE "Invoice" ADD CONSTRAINT "Invoice_paymentId_fkey" FOREIGN KEY ("paymentId") REFERENCES "Payment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

