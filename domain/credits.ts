/**
 * Support time credit (SPEC §5) and the prepaid credits wallet (SPEC §6): pure rules.
 *
 * Two ledgers per account, both append-only with signed integer amounts: SUPPORT_TIME in seconds, WALLET in
 * cents (1 credit = 1 EUR). A charge may not take a balance below minus the account's overdraft limit
 * (0 by default). Support packs are one known service, invoiced with VAT when bought; wallet credits are a
 * multi-purpose voucher: the recharge gets a receipt without VAT, and VAT is due when credits are spent.
 */
import { findSupportPack, type Catalog } from './catalog';
import { buildTotals, supportPackQuote, type Quote } from './quote';
import { FRENCH_VAT_RATE_BASIS_POINTS, vatRule } from './vat';

export const CREDIT_LEDGERS = ['SUPPORT_TIME', 'WALLET'] as const;
export type CreditLedger = (typeof CREDIT_LEDGERS)[number];

/** True when the balance may take the (signed) movement: never below minus the overdraft limit. */
export function movementAllowed(balance: number, amount: number, overdraftLimit: number): boolean {
  if (amount >= 0) return true;
  return balance + amount >= -overdraftLimit;
}

/** 1500 → "25 min", 3900 → "1 h 05 min", -600 → "-10 min", 90 → "1 min 30 s". */
export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  const parts: string[] = [];
  if (h) parts.push(`${h} h`);
  if (h || m || !s) parts.push(h ? `${String(m).padStart(2, '0')} min` : `${m} min`);
  if (s) parts.push(`${s} s`);
  return sign + parts.join(' ');
}

export type DeductionReason = 'BILLABLE' | 'CAUSED_BY_SOFTWARE' | 'NOT_BILLABLE' | 'CLOUD_INCLUDED';

/**
 * What a support call costs in support time. Problems caused by the software are free; CLOUD customers
 * have support included; a call ops mark not billable is free. Otherwise the whole duration is deducted.
 */
export function supportCallDeduction(call: {
  durationSeconds: number;
  billable: boolean;
  causedBySoftware: boolean;
  cloud: boolean;
}): { deductedSeconds: number; reason: DeductionReason } {
  if (call.causedBySoftware) return { deductedSeconds: 0, reason: 'CAUSED_BY_SOFTWARE' };
  if (call.cloud) return { deductedSeconds: 0, reason: 'CLOUD_INCLUDED' };
  if (!call.billable) return { deductedSeconds: 0, reason: 'NOT_BILLABLE' };
  return { deductedSeconds: call.durationSeconds, reason: 'BILLABLE' };
}

export const DEDUCTION_LABELS: Readonly<Record<DeductionReason, string>> = {
  BILLABLE: 'décompté de votre crédit-temps',
  CAUSED_BY_SOFTWARE: 'problème dû au logiciel : traité gratuitement',
  NOT_BILLABLE: 'intervention non facturée',
  CLOUD_INCLUDED: 'support inclus dans votre abonnement Cloud',
};

/**
 * Online purchases are open to buyers who pay French VAT (20 %): France, Monaco and EU consumers. Others
 * (EU businesses under reverse charge, buyers outside the EU) must contact the vendor first (seed 000).
 */
export function needsVatContact(buyer: { country: string; vatNumber?: string }): boolean {
  return vatRule(buyer).rateBasisPoints !== FRENCH_VAT_RATE_BASIS_POINTS;
}

export type CreditProductRequest =
  { kind: 'SUPPORT_PACK'; minutes: number } | { kind: 'WALLET_RECHARGE'; amountCents: number };

export type PricedCreditProduct =
  | {
      ok: true;
      kind: CreditProductRequest['kind'];
      /** seconds for a support pack, cents for a wallet recharge */
      creditAmount: number;
      /** what the card is charged */
      amountCents: number;
      packMinutes?: number;
      /** the invoice's lines (support packs only: wallet recharges get a receipt) */
      quote?: Quote;
      description: string;
    }
  | { ok: false; reason: 'UNKNOWN_PACK' | 'BELOW_MINIMUM'; minimumCents?: number; packs?: number[] };

/** Prices a support pack (catalogue price + the buyer's VAT) or a wallet recharge (face value, no VAT). */
export function priceCreditProduct(
  catalog: Catalog,
  product: CreditProductRequest,
  buyer: { country: string; vatNumber?: string },
): PricedCreditProduct {
  if (product.kind === 'SUPPORT_PACK') {
    if (!findSupportPack(catalog, product.minutes)) {
      return { ok: false, reason: 'UNKNOWN_PACK', packs: catalog.supportPacks.map((p) => p.minutes) };
    }
    const vat = vatRule(buyer);
    const lines = [supportPackQuote(catalog, product.minutes, vat)];
    const quote: Quote = { currency: catalog.currency, lines, vat, ...buildTotals(lines) };
    return {
      ok: true,
      kind: 'SUPPORT_PACK',
      creditAmount: product.minutes * 60,
      amountCents: quote.totalInclVatCents,
      packMinutes: product.minutes,
      quote,
      description: `Crédit-temps support ${product.minutes} min`,
    };
  }
  if (
    !Number.isSafeInteger(product.amountCents) ||
    product.amountCents < catalog.walletMinimumRechargeCents
  ) {
    return { ok: false, reason: 'BELOW_MINIMUM', minimumCents: catalog.walletMinimumRechargeCents };
  }
  return {
    ok: true,
    kind: 'WALLET_RECHARGE',
    creditAmount: product.amountCents,
    amountCents: product.amountCents,
    description: `Recharge de ${product.amountCents / 100} crédits`,
  };
}

/** "2026-03" for any instant of March 2026 (UTC: the fees schedule fires early on the 1st, UTC). */
export function monthOf(instant: Date): string {
  return instant.toISOString().slice(0, 7);
}

export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Whether an app subscription is charged for a month (YYYY-MM strings compare in calendar order). */
export function appChargedIn(app: { sinceMonth: string; untilMonth: string | null }, month: string): boolean {
  return app.sinceMonth <= month && (app.untilMonth === null || month <= app.untilMonth);
}

/** The idempotency key of one app's fee for one month: a schedule firing twice charges once. */
export function appFeeKey(accountId: number, accountAppId: string, month: string): string {
  return `app-fee:${accountId}:${accountAppId}:${month}`;
}
