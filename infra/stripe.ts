import Stripe from 'stripe';

/** The Stripe client; `apiBase` points it elsewhere (stripe-mock in development and tests). */
export function createStripe(secretKey: string, apiBase?: string): Stripe {
  if (!apiBase) return new Stripe(secretKey, { maxNetworkRetries: 0, timeout: 20_000 });
  const url = new URL(apiBase);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    // Temporal retries activities; the client must not retry on its own behind our idempotency keys' back
    maxNetworkRetries: 0,
    timeout: 20_000,
  });
}
