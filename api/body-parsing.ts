/**
 * Reading request bodies: JSON (and the raw bytes of the Stripe webhook) with the parser's failures turned
 * into documented codes, never a 500: a charset other than UTF-8 or an unknown Content-Encoding is 415,
 * corrupt compression or nesting past `MAX_JSON_DEPTH` is 400 MALFORMED_BODY, a body over the limit 413.
 * The depth is counted on the bytes before `JSON.parse`, so no recursive code ever sees a deep document.
 */
import express, { type RequestHandler } from 'express';
import { AppError } from '../domain/errors';

export const BODY_LIMIT = '1mb';
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of objects and arrays in JSON text (strings skipped), stopping once past `max`. */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

class TooDeep extends Error {
  readonly type = 'entity.too.deep';
}

/** The body parser's error, as the AppError the client gets. */
export function bodyParserError(error: unknown): AppError {
  const e = error as { type?: string; status?: number; message?: string };
  switch (e?.type) {
    case 'entity.parse.failed':
      return new AppError('MALFORMED_JSON', 'The request body is not valid JSON');
    case 'entity.too.deep':
      return new AppError('MALFORMED_BODY', `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${BODY_LIMIT}`);
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8 (charset=utf-8)');
    case 'encoding.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding must be gzip, deflate, br or identity');
    default:
      // a decompression failure (zlib / brotli) or a truncated body: the bytes can't be read
      return new AppError('MALFORMED_BODY', 'The request body could not be read (corrupt or truncated)');
  }
}

/** Runs a body parser and hands its failure on as an AppError. */
function mapped(parser: RequestHandler): RequestHandler {
  return (req, res, next) => {
    parser(req, res, (error?: unknown) => {
      if (error === undefined || error === null || error === 'route' || error === 'router') {
        next(error as undefined);
        return;
      }
      next(bodyParserError(error));
    });
  };
}

export function jsonBody(): RequestHandler {
  return mapped(
    express.json({
      limit: BODY_LIMIT,
      verify: (_req, _res, buffer) => {
        if (jsonDepthExceeds(buffer, MAX_JSON_DEPTH)) throw new TooDeep('too deep');
      },
    }),
  );
}

export function rawBody(): RequestHandler {
  return mapped(express.raw({ type: 'application/json', limit: BODY_LIMIT }));
}

export function textBody(types: string[], limit: string): RequestHandler {
  return mapped(express.text({ type: types, limit }));
}
