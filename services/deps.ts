import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { EmailCodeSettings } from '../domain/email-code';
import type { LicenceKeyRing } from '../infra/licence-keys';
import type { PrismaClient } from '../infra/prisma';
import type { SessionSettings } from './sessions/settings';

/** Who sells, and the rules of purchases and renewals (from config). */
export interface BillingSettings {
  termsVersion: string;
  seller: { name: string; address: string; siren: string; vatNumber: string };
  renewalReminderDays: number;
  dunningRetryDays: number[];
  offlinePaymentReminderDays: number;
  offlinePaymentDeadlineDays: number;
  onlinePaymentTimeoutHours: number;
}

/** What use-cases need: the database, Temporal, Stripe, the licence keys, and the settings they read. */
export interface ServiceDeps {
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
  emailCode: EmailCodeSettings;
  stripe: Stripe;
  stripeWebhookSecret: string;
  licenceKeys: LicenceKeyRing;
  billing: BillingSettings;
  /** concurrent sessions (heartbeat timeout); defaults when absent */
  sessions?: SessionSettings;
}
