-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('ACTIVE', 'CLOSED', 'EVICTED', 'EXPIRED', 'TRIMMED');

-- CreateEnum
CREATE TYPE "SessionEventKind" AS ENUM ('OPENED', 'CLOSED', 'EVICTED', 'EXPIRED', 'TRIMMED');

-- CreateTable
CREATE TABLE "Session" (
    "id" BIGSERIAL NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "userCode" TEXT NOT NULL,
    "userName" TEXT NOT NULL,
    "ip" TEXT NOT NULL,
    "computerName" TEXT NOT NULL,
    "status" "SessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMPTZ(3),
    "openedBy" TEXT NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SessionEvent" (
    "id" BIGSERIAL NOT NULL,
    "baseId" CHAR(17) NOT NULL,
    "sessionId" BIGINT NOT NULL,
    "kind" "SessionEventKind" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT NOT NULL,
    "byUserCode" TEXT,
    "byUserName" TEXT,
    "reason" TEXT,
    "userCode" TEXT NOT NULL,
    "userName" TEXT NOT NULL,
    "ip" TEXT NOT NULL,
    "computerName" TEXT NOT NULL,

    CONSTRAINT "SessionEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_baseId_status_idx" ON "Session"("baseId", "status");

-- CreateIndex
CREATE INDEX "Session_status_lastSeenAt_idx" ON "Session"("status", "lastSeenAt");

-- CreateIndex
CREATE INDEX "SessionEvent_baseId_id_idx" ON "SessionEvent"("baseId", "id");

-- CreateIndex
CREATE INDEX "SessionEvent_sessionId_idx" ON "SessionEvent"("sessionId");

