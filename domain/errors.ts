/**
 * The one error type of the application: a stable code (documented in docs/errors.md and the OpenAPI
 * document), a message for humans, optional details. The HTTP status of each code is decided here, once.
 * Workflows use the same codes as ApplicationFailure types for business failures.
 */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  WEBHOOK_SIGNATURE_INVALID: 400,
  PAYMENT_LINK_INVALID: 400,
  UNAUTHENTICATED: 401,
  INVALID_PASSWORD: 401,
  FORBIDDEN: 403,
  BASE_FORBIDDEN: 403,
  ROLE_REQUIRED: 403,
  NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  BASE_NOT_FOUND: 404,
  INSTALLATION_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  OPS_TOKEN_NOT_FOUND: 404,
  CHALLENGE_NOT_FOUND: 404,
  LICENCE_NOT_FOUND: 404,
  PURCHASE_NOT_FOUND: 404,
  INVOICE_NOT_FOUND: 404,
  CREDIT_NOTE_NOT_FOUND: 404,
  RECEIPT_NOT_FOUND: 404,
  ACCOUNT_EXISTS: 409,
  BASE_ALREADY_CLAIMED: 409,
  BASE_OWNED_BY_OTHER_ACCOUNT: 409,
  ALREADY_CONFIRMED: 409,
  CHALLENGE_ALREADY_USED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  LICENCE_ALREADY_ACTIVE: 409,
  PURCHASE_NOT_AWAITING_OPS: 409,
  ACCOUNT_NOT_ACTIVE: 422,
  NOT_LINKED: 422,
  CODE_INVALID: 422,
  CODE_EXPIRED: 422,
  CODE_LOCKED: 422,
  TERMS_NOT_ACCEPTED: 422,
  FREE_LICENCE_NEEDS_NO_PURCHASE: 422,
  VAT_NUMBER_INVALID: 422,
  CREDIT_EXCEEDS_INVOICE: 422,
  PAYMENT_DECLINED: 422,
  PAYMENT_NOT_NEEDED: 422,
  NO_PAID_LICENCE: 422,
  CHANGE_REFUSED: 422,
  LICENCE_FILE_INVALID: 422,
  RATE_LIMITED: 429,
  RESEND_TOO_SOON: 429,
  RESEND_LIMIT_REACHED: 429,
  NOT_READY: 503,
  DATABASE_UNAVAILABLE: 503,
  VIES_UNAVAILABLE: 503,
  INTERNAL: 500,
  // v15 → A1 licence migration
  V15_LICENCE_NOT_FOUND: 404,
  MIGRATION_NOT_FOUND: 404,
  ALREADY_TRANSFERRED: 409,
  A1_LICENCE_ACTIVE: 409,
  MIGRATION_NOT_ELIGIBLE_EDITION: 422,
  MIGRATION_TOO_LATE: 422,
  MIGRATION_EMAIL_REQUIRED: 422,
  PAYMENT_METHOD_REQUIRED: 422,
  // support time and credits wallet
  APP_SUBSCRIPTION_NOT_FOUND: 404,
  INSUFFICIENT_CREDIT: 409,
  PURCHASE_NOT_UNMATCHED: 409,
  PURCHASE_NOT_AWAITING_PAYMENT: 409,
  CREDIT_PRODUCT_INVALID: 422,
  VAT_CONTACT_REQUIRED: 422,
  // concurrent sessions
  SESSION_NOT_FOUND: 404,
  SEAT_LIMIT_REACHED: 409,
  SESSION_ENDED: 409,
  LICENCE_SUSPENDED: 422,
  // wallet consumption invoices
  MONTH_NOT_OVER: 422,
  // ops tools
  PAYMENT_NOT_FOUND: 404,
  PAYMENT_NOT_REPLAYABLE: 409,
  // brute-force limits
  TOO_MANY_ATTEMPTS: 429,
  // payment page
  PAYMENT_LINK_EXPIRED: 410,
  // mail
  EMAIL_UNDELIVERABLE: 422,
  // bodies the parser refuses
  MALFORMED_BODY: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // promo codes
  PROMO_CODE_UNKNOWN: 422,
  PROMO_CODE_INACTIVE: 422,
  PROMO_CODE_NOT_YET_VALID: 422,
  PROMO_CODE_EXPIRED: 422,
  PROMO_CODE_NOT_ELIGIBLE: 422,
  PROMO_CODE_EXHAUSTED: 409,
  PROMO_CODE_ALREADY_USED: 409,
  PROMO_CODE_EXISTS: 409,
  PROMO_CODE_NOT_FOUND: 404,
  // a charge priced first
  PRICE_CHANGED: 409,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(errorStatus, value);
}
