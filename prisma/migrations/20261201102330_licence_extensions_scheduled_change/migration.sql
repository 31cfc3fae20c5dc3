-- AlterTable
ALTER TABLE "Licence" ADD COLUMN     "extensions" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "scheduledChange" JSONB;

