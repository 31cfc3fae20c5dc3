import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { EmailCodeLimits, EmailCodeSettings } from '../domain/email-code';
import type { InvoiceSeller } from '../domain/invoice';
import type { OfflinePayee } from '../domain/licence';
import type { ViesCheck } from '../domain/vies';
import type { LicenceKeyRing } from '../infra/licence-keys';
import type { PrismaClient } from '../infra/prisma';
import type { PaymentPageSettings } from './payments/payment-link';
import type { SessionSettings } from './sessions/settings';

/** Who sells, and the rules of purchases and renewals (from config). */
/** A paid licence's file: refreshed every `refreshDays`, still valid `offlineGraceDays` after that. */
export interface LicenceFileSettings {
  refreshDays: number;
  offlineGraceDays: number;
}

export const DEFAULT_LICENCE_FILE_SETTINGS: LicenceFileSettings = { refreshDays: 30, offlineGraceDays: 14 };

export interface BillingSettings {
  termsVersion: string;
  seller: InvoiceSeller;
  renewalReminderDays: number;
  dunningRetryDays: number[];
  offlinePaymentReminderDays: number;
  offlinePaymentDeadlineDays: number;
  onlinePaymentTimeoutHours: number;
  offlineRenewalNoticeDays: number;
  offlineRenewalGraceDays: number;
  offlineRenewalReminderDays: number[];
  /** where cheque and transfer payers pay (the invoice to pay of a renewal) */
  payee: OfflinePayee;
}

/** Support time and credits wallet: who ops are, how long a card payment may take, who to contact. */
export interface CreditSettings {
  /** where the manual-credit queue reminders go */
  opsEmail: string;
  /** the vendor's contact for buyers who can't buy online (not subject to French VAT) */
  vendorContactEmail: string;
  paymentTimeoutHours: number;
  /** how often ops are reminded of a paid purchase waiting for an account */
  unmatchedReminderHours: number;
}

export const DEFAULT_CREDIT_SETTINGS: CreditSettings = {
  opsEmail: 'ops@localhost',
  vendorContactEmail: 'contact@localhost',
  paymentTimeoutHours: 24,
  unmatchedReminderHours: 24,
};

/** What use-cases need: the database, Temporal, Stripe, the licence keys, and the settings they read. */
export interface ServiceDeps {
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
  emailCode: EmailCodeSettings;
  /** limits across challenges; DEFAULT_EMAIL_CODE_LIMITS when not given */
  emailCodeLimits?: EmailCodeLimits;
  stripe: Stripe;
  stripeWebhookSecret: string;
  licenceKeys: LicenceKeyRing;
  billing: BillingSettings;
  /** VIES, consulted before a sale reverse-charges an EU VAT number (`activities/vies.ts`) */
  vies: ViesCheck;
  /** support time and wallet settings; DEFAULT_CREDIT_SETTINGS when not given */
  credits?: CreditSettings;
  /** how long a paid licence's signed file lasts; DEFAULT_LICENCE_FILE_SETTINGS when absent */
  licenceFiles?: LicenceFileSettings;
  /** concurrent sessions (heartbeat timeout); defaults when absent */
  sessions?: SessionSettings;
  /** ops: the Temporal UI, for links to workflows (TEMPORAL_UI_URL) */
  temporalUiUrl?: string;
  /** the payment page (links in purchase answers); absent: answers carry no payment URL */
  paymentPage?: PaymentPageSettings;
}
