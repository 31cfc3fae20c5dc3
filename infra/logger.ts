import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, name = 'licensing'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', '*.password', '*.code', '*.apiKey', '*.token'],
      censor: '[redacted]',
    },
  });
}
