/**
 * A price before the charge: a quote's fingerprint, sent back with the charge. The charge prices again and
 * goes ahead only if the fingerprint is the same, so a customer is never charged an amount other than the
 * one shown. The fingerprint covers every line (descriptions carry the proration days and the period), the
 * totals and the VAT rule; it is computed the same way in a service and in workflow code (pure, no
 * `node:crypto`: cyrb53, a 53-bit string hash, twice with two seeds).
 */
import type { Quote } from './quote';

function cyrb53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** What is charged, in a fixed order: the same price gives the same text. */
function canonical(quote: Quote): string {
  return JSON.stringify([
    quote.currency,
    quote.vat.kind,
    quote.vat.rateBasisPoints,
    quote.lines.map((l) => [l.description, l.quantity, l.unitPriceCents, l.totalExclVatCents, l.vatCents]),
    quote.totalExclVatCents,
    quote.vatCents,
    quote.totalInclVatCents,
  ]);
}

/** "pf1_" and 28 hex digits. */
export function priceFingerprint(quote: Quote): string {
  const text = canonical(quote);
  const hex = (n: number) => n.toString(16).padStart(14, '0');
  return `pf1_${hex(cyrb53(text, 1))}${hex(cyrb53(text, 2))}`;
}

/** Options a charge may carry: the fingerprint of the quote the customer saw. */
export interface ChargeOptions {
  priceFingerprint?: string;
}
