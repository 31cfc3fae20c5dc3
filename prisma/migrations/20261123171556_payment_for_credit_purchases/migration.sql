-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "accountId" INTEGER,
ADD COLUMN     "creditPurchaseId" UUID,
ALTER COLUMN "baseId" DROP NOT NULL;

