-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "viesConsultation" JSONB;

-- AlterTable
ALTER TABLE "Invoice" ADD COLUMN     "viesConsultation" JSONB;

