import type { Client } from '@temporalio/client';
import type { EmailCodeSettings } from '../domain/email-code';
import type { PrismaClient } from '../infra/prisma';

/** What use-cases need: the database, Temporal, and the settings they read. */
export interface ServiceDeps {
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
  emailCode: EmailCodeSettings;
}
