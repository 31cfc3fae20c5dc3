/** A charge sent with the fingerprint of its quote goes ahead only at that price (price-fingerprint.ts). */
import { priceFingerprint, type ChargeOptions } from '../../domain/price-fingerprint';
import type { Quote } from '../../domain/quote';
import { refuse } from '../refuse';

/** Throws PRICE_CHANGED (nothing charged) when the price is no longer the one the customer was quoted. */
export function requireQuotedPrice(options: ChargeOptions | undefined, priced: Quote): void {
  const expected = options?.priceFingerprint;
  if (expected === undefined) return;
  const now = priceFingerprint(priced);
  if (now !== expected)
    throw refuse('PRICE_CHANGED', 'The price is no longer the one quoted: quote again', {
      priceFingerprint: now,
      quote: priced,
    });
}
