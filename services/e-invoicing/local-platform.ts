import fs from 'node:fs/promises';
import path from 'node:path';
import { E_INVOICE_STATUSES, type PlatformStatus } from '../../domain/e-invoicing';
import type { PlatformAdapter, PlatformAnswer, PlatformDocument } from './platform-adapter';

interface LocalRecord {
  platformId: string;
  kind: string;
  number: string;
  flow: string;
  status: PlatformStatus;
  receivedAt: string;
}

const isPlatformStatus = (value: unknown): value is PlatformStatus =>
  typeof value === 'string' && value !== 'QUEUED' && (E_INVOICE_STATUSES as string[]).includes(value);

/**
 * The platform of development and tests (EINVOICE_PLATFORM=local): a directory. Each document sent is
 * written as `<platformId>.pdf` with its record `<platformId>.json`; the record's `status` is what the
 * platform answers (DEPOSITED when received; write another status into it — REFUSED, PAID... — to play the
 * buyer's answer, `setLocalPlatformStatus`). The platform id is the outbox key, so a document sent twice
 * is received once.
 */
export function createLocalPlatform(directory: string): PlatformAdapter {
  const recordPath = (platformId: string) => path.join(directory, `${platformId}.json`);
  const answerOf = (record: LocalRecord): PlatformAnswer => ({
    platformId: record.platformId,
    status: record.status,
    raw: { ...record },
  });
  const read = async (platformId: string): Promise<LocalRecord | undefined> => {
    try {
      return JSON.parse(await fs.readFile(recordPath(platformId), 'utf8')) as LocalRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  return {
    name: 'local',
    async send(document: PlatformDocument): Promise<PlatformAnswer> {
      const platformId = document.idempotencyKey;
      const known = await read(platformId);
      if (known) return answerOf(known);
      await fs.mkdir(directory, { recursive: true });
      await fs.writeFile(path.join(directory, `${platformId}.pdf`), document.pdf);
      const record: LocalRecord = {
        platformId,
        kind: document.kind,
        number: document.number,
        flow: document.flow,
        status: 'DEPOSITED',
        receivedAt: new Date().toISOString(),
      };
      // the record last, through a rename: a crash leaves no record, so the next send writes it all again
      const temporary = `${recordPath(platformId)}.tmp`;
      await fs.writeFile(temporary, JSON.stringify(record, null, 2));
      await fs.rename(temporary, recordPath(platformId));
      return answerOf(record);
    },
    async fetchStatus(platformId: string): Promise<PlatformAnswer> {
      const record = await read(platformId);
      if (!record) throw new Error(`local platform: no document ${platformId}`);
      if (!isPlatformStatus(record.status))
        throw new Error(`local platform: document ${platformId} has status ${String(record.status)}`);
      return answerOf(record);
    },
  };
}

/** Plays the platform's (or the buyer's) answer on a document of the local platform. */
export async function setLocalPlatformStatus(
  directory: string,
  platformId: string,
  status: PlatformStatus,
): Promise<void> {
  const file = path.join(directory, `${platformId}.json`);
  const record = JSON.parse(await fs.readFile(file, 'utf8')) as LocalRecord;
  await fs.writeFile(file, JSON.stringify({ ...record, status }, null, 2));
}
