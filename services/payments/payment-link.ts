/**
 * Payment links: the URL the ERP opens in the browser to pay an order (`/pay/<token>`). The token names
 * the order and its PaymentIntent and carries an expiry, signed with HMAC-SHA256 under the app secret, so
 * the page needs no login and a link can't be altered to point at another order. Nothing is stored: a
 * purchase answered again (same idempotency key) gets a fresh link.
 */
import crypto from 'node:crypto';
import { AppError } from '../../domain/errors';

/**
 * What a link pays: a licence purchase (`Purchase`), a support pack / wallet recharge (`CreditPurchase`),
 * a licence's renewal or change charged off-session that the bank wants the customer to authenticate
 * (`RENEWAL`: the order is the licence, the PaymentIntent the charge), or a change of the licence's saved
 * card (`CARD`: the order is the licence, no PaymentIntent: a SetupIntent is created when the page opens).
 */
export type PaymentOrderKind = 'LICENCE' | 'CREDIT' | 'RENEWAL' | 'CARD';

/** the PaymentIntent slot of a CARD link: nothing to pay */
export const CARD_CHANGE_INTENT = 'setup';

export interface PaymentLink {
  kind: PaymentOrderKind;
  orderId: string;
  /** the PaymentIntent paid (CARD_CHANGE_INTENT for a CARD link) */
  paymentIntentId: string;
  /** unix seconds */
  expiresAt: number;
}

export interface PaymentPageSettings {
  /** where customers' browsers reach this API, without a trailing slash */
  publicUrl: string;
  /** the app secret (APP_SECRET): links are signed with a key derived from it */
  secret: string;
  /** Stripe publishable key handed to Stripe.js; undefined: the page says online payment is unavailable */
  publishableKey?: string;
  /** the page's Stripe.js (localstripe's stand-in in development) */
  stripeJsUrl: string;
  linkTtlSeconds: number;
}

const KIND_CODE: Record<PaymentOrderKind, string> = { LICENCE: 'L', CREDIT: 'C', RENEWAL: 'R', CARD: 'S' };
const CODE_KIND: Record<string, PaymentOrderKind> = { L: 'LICENCE', C: 'CREDIT', R: 'RENEWAL', S: 'CARD' };

function signature(secret: string, payload: string): Buffer {
  // a key of its own, derived from the app secret (which also keys the emailed codes' HMAC)
  const key = crypto.createHmac('sha256', secret).update('payment-link/v1').digest();
  return crypto.createHmac('sha256', key).update(payload).digest();
}

export function signPaymentLink(
  settings: Pick<PaymentPageSettings, 'secret' | 'linkTtlSeconds'>,
  order: Omit<PaymentLink, 'expiresAt'>,
  now: Date = new Date(),
): string {
  const expiresAt = Math.floor(now.getTime() / 1000) + settings.linkTtlSeconds;
  const payload = [KIND_CODE[order.kind], order.orderId, order.paymentIntentId, expiresAt].join('.');
  const encoded = Buffer.from(payload).toString('base64url');
  return `${encoded}.${signature(settings.secret, payload).toString('base64url')}`;
}

/** The link's order, or PAYMENT_LINK_INVALID (altered, malformed) / PAYMENT_LINK_EXPIRED. */
export function verifyPaymentLink(
  settings: Pick<PaymentPageSettings, 'secret'>,
  token: string,
  now: Date = new Date(),
): PaymentLink {
  const invalid = () => new AppError('PAYMENT_LINK_INVALID', 'This payment link is not valid');
  const [encoded, mac, ...rest] = token.split('.');
  if (!encoded || !mac || rest.length > 0) throw invalid();
  const payload = Buffer.from(encoded, 'base64url').toString();
  const expected = signature(settings.secret, payload);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw invalid();
  const [code, orderId, paymentIntentId, expiry, ...extra] = payload.split('.');
  const kind = code ? CODE_KIND[code] : undefined;
  const expiresAt = Number(expiry);
  if (!kind || !orderId || !paymentIntentId || !Number.isInteger(expiresAt) || extra.length > 0)
    throw invalid();
  if (expiresAt * 1000 <= now.getTime()) {
    throw new AppError(
      'PAYMENT_LINK_EXPIRED',
      'This payment link has expired: start the payment again from the ERP',
      {
        expiredAt: new Date(expiresAt * 1000).toISOString(),
      },
    );
  }
  return { kind, orderId, paymentIntentId, expiresAt };
}

export function paymentUrlOf(settings: Pick<PaymentPageSettings, 'publicUrl'>, token: string): string {
  return `${settings.publicUrl}/pay/${token}`;
}

/** What signs the links the emails carry (the worker's side of PaymentPageSettings). */
export type EmailLinkSettings = Pick<PaymentPageSettings, 'publicUrl' | 'secret' | 'linkTtlSeconds'>;

/** The signed URL of a licence's renewal charge waiting for the customer (3-D Secure). */
export function renewalPaymentUrl(settings: EmailLinkSettings, licenceId: string, paymentIntentId: string) {
  return paymentUrlOf(
    settings,
    signPaymentLink(settings, { kind: 'RENEWAL', orderId: licenceId, paymentIntentId }),
  );
}

/** The signed URL of the page changing a licence's saved card. */
export function cardChangeUrl(settings: EmailLinkSettings, licenceId: string) {
  return paymentUrlOf(
    settings,
    signPaymentLink(settings, { kind: 'CARD', orderId: licenceId, paymentIntentId: CARD_CHANGE_INTENT }),
  );
}

/**
 * A purchase answer's `payment` with its payment URL beside the client secret, when the page is
 * configured (every deployment; some test set-ups have no page).
 */
export function withPaymentUrl<P extends { paymentIntentId: string }>(
  settings: PaymentPageSettings | undefined,
  kind: PaymentOrderKind,
  orderId: string,
  payment: P | undefined,
): (P & { paymentUrl?: string }) | undefined {
  if (!payment || !settings) return payment;
  const token = signPaymentLink(settings, { kind, orderId, paymentIntentId: payment.paymentIntentId });
  return { ...payment, paymentUrl: paymentUrlOf(settings, token) };
}
