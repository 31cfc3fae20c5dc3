import pino from 'pino';

export type Logger = pino.Logger;

/**
 * What never reaches a log line (see docs/security.md): credentials in request headers (API keys, ops
 * tokens, Stripe signatures, cookies) and secret fields of logged objects, at any of the first levels.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'password',
    'newPassword',
    'code',
    'apiKey',
    'token',
    'secret',
    'clientSecret',
    'client_secret',
  ].flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
];

export function createLogger(
  level: string,
  name = 'licensing',
  destination?: pino.DestinationStream,
): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
