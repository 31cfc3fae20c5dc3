-- CreateEnum
CREATE TYPE "PromoDiscountKind" AS ENUM ('PERCENT', 'AMOUNT');

-- CreateEnum
CREATE TYPE "PromoDuration" AS ENUM ('FIRST_PERIOD', 'REPEATING', 'FOREVER');

-- CreateTable
CREATE TABLE "PromoCode" (
    "id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "kind" "PromoDiscountKind" NOT NULL,
    "percentBasisPoints" INTEGER,
    "amountOffCents" INTEGER,
    "duration" "PromoDuration" NOT NULL,
    "durationPeriods" INTEGER,
    "validFrom" TIMESTAMP(3),
    "validUntil" TIMESTAMP(3),
    "maxRedemptions" INTEGER,
    "redemptionCount" INTEGER NOT NULL DEFAULT 0,
    "editions" "Edition"[],
    "modes" "LicenceMode"[],
    "periods" "BillingPeriod"[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deactivatedAt" TIMESTAMP(3),

    CONSTRAINT "PromoCode_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PromoRedemption" (
    "id" UUID NOT NULL,
    "promoCodeId" UUID NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "purchaseId" UUID NOT NULL,
    "licenceId" UUID NOT NULL,
    "discount" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PromoRedemption_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PromoCode_code_key" ON "PromoCode"("code");

-- CreateIndex
CREATE UNIQUE INDEX "PromoRedemption_purchaseId_key" ON "PromoRedemption"("purchaseId");

-- CreateIndex
CREATE INDEX "PromoRedemption_licenceId_idx" ON "PromoRedemption"("licenceId");

-- CreateIndex
CREATE UNIQUE INDEX "PromoRedemption_promoCodeId_baseId_key" ON "PromoRedemption"("promoCodeId", "baseId");

-- AddForeignKey
ALTER TABLE "PromoRedemption" ADD CONSTRAINT "PromoRedemption_promoCodeId_fkey" FOREIGN KEY ("promoCodeId") REFERENCES "PromoCode"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

