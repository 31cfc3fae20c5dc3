/** Licence terms and the calendar arithmetic the subscription workflow needs (pure, deterministic). */
import type { BillingPeriod, Edition, Mode } from './catalog';
import { formatLocalDate, localDateParts, type LocalDate } from './periods';

export type PaymentMethodKind = 'ONLINE' | 'CHEQUE' | 'TRANSFER' | 'FREE';

export interface LicenceTerms {
  edition: Edition;
  mode: Mode;
  connections: number;
  period: BillingPeriod;
  /** catalogue extension codes, sorted, no duplicates (absent: none) */
  extensions?: string[];
}

export type LicenceStatus =
  'PENDING' | 'ACTIVE' | 'PAST_DUE' | 'SUSPENDED' | 'ENDED' | 'CANCELLED' | 'TRANSFERRED';

/** A licence the base may use: active, or in the grace period of a failed renewal. */
export function isUsable(status: LicenceStatus): boolean {
  return status === 'ACTIVE' || status === 'PAST_DUE';
}

/** Timers fire at the start of a day; the vendor is in France, days are counted in Europe/Paris. */
const PARIS_OFFSET_HOURS = 1; // CET; a day boundary an hour off in summer does not change which day a timer fires on

/** Midnight (Paris) at the start of `date`, as epoch milliseconds. */
export function startOfDayMs(date: LocalDate): number {
  const { year, month, day } = localDateParts(date);
  return Date.UTC(year, month - 1, day) - PARIS_OFFSET_HOURS * 3_600_000;
}

/** The (Paris) calendar day of an instant. */
export function dayOf(epochMs: number): LocalDate {
  const d = new Date(epochMs + PARIS_OFFSET_HOURS * 3_600_000);
  return formatLocalDate({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/** Settings of purchases and renewals, given to the workflow at start. */
export interface SubscriptionSettings {
  renewalReminderDays: number;
  dunningRetryDays: number[];
  offlinePaymentReminderDays: number;
  offlinePaymentDeadlineDays: number;
  onlinePaymentTimeoutHours: number;
  /** cheque/transfer renewal: invoice to pay mailed this many days before the period end */
  offlineRenewalNoticeDays: number;
  /** due this many days after the period end */
  offlineRenewalGraceDays: number;
  /** reminders this many days before the due date */
  offlineRenewalReminderDays: number[];
}

/** Where cheque and transfer payers send their money. */
export interface OfflinePayee {
  iban: string;
  bic: string;
  chequePayee: string;
  chequeAddress: string;
}
