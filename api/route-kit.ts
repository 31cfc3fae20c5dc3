/**
 * One declaration per route: its zod schemas validate the request (400 with field details) and feed the
 * OpenAPI document; its `auth` decides who may call; `baseParam` enforces tenancy (403 on another base).
 */
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { AppError, errorStatus, type ErrorCode } from '../domain/errors';
import type { PrismaClient } from '../infra/prisma';
import { canAccessBase, resolveToken, type Principal } from '../services/auth/principal';
import type { PrincipalCache } from '../services/auth/principal-cache';
import { RateLimitExceeded, reserveAttempt, type RateRule } from '../services/limits/rate-limits';
import { unstorableText } from './storable-text';

export type AuthRule = 'none' | 'installation' | 'any' | 'ops' | 'admin';

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path, e.g. `/accounts/:accountId` */
  path: string;
  summary: string;
  tag: string;
  auth: AuthRule;
  /** name of the path parameter holding a base ID the caller must have access to */
  baseParam?: keyof z.infer<P> & string;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  /** error codes this route may answer with, besides validation and auth ones */
  errors?: ErrorCode[];
  middlewares?: RequestHandler[];
  /** hot routes only: the key may be resolved from the principal cache (see services/auth/principal-cache.ts) */
  authCache?: boolean;
  /** guessing bounded (docs/security.md): counted only for authenticated, valid requests */
  attempts?: AttemptGuard<z.infer<P>>;
}

/**
 * A guessed secret (a password): an attempt is reserved once the caller is authenticated and the request
 * valid, before the handler checks the secret, under the rules' keys (the caller, the parsed account id...);
 * it counts only when the handler fails with one of `countedErrors`. Past a limit: `refusal`.
 */
export interface AttemptGuard<P> {
  rules: (ctx: { params: P; principal: Principal; req: Request }) => RateRule[];
  countedErrors: ErrorCode[];
  refusal: (retryAfterSeconds: number) => AppError;
}

export interface RouteContext<P, Q, B, A extends AuthRule> {
  params: P;
  query: Q;
  body: B;
  principal: A extends 'none'
    ? Principal | undefined
    : A extends 'installation'
      ? Extract<Principal, { kind: 'installation' }>
      : Principal;
  req: Request;
  res: Response;
}

export type Reply =
  { status: number; body?: unknown; contentType?: string; headers?: Record<string, string> } | undefined;

export interface RouteKit {
  route<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, A extends AuthRule>(
    router: Router,
    spec: RouteSpec<P, Q, B> & { auth: A },
    handler: (ctx: RouteContext<z.infer<P>, z.infer<Q>, z.infer<B>, A>) => Promise<Reply>,
  ): void;
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

function fieldErrors(where: string, error: z.ZodError) {
  return error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
}

const authErrors: Record<AuthRule, ErrorCode[]> = {
  none: [],
  installation: ['UNAUTHENTICATED', 'FORBIDDEN'],
  any: ['UNAUTHENTICATED'],
  ops: ['UNAUTHENTICATED', 'ROLE_REQUIRED'],
  admin: ['UNAUTHENTICATED', 'ROLE_REQUIRED'],
};

/** what the body parser may answer for a route that reads a body (api/body-parsing.ts) */
const bodyErrors: ErrorCode[] = [
  'MALFORMED_JSON',
  'MALFORMED_BODY',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

export function createRouteKit(deps: {
  prisma: PrismaClient;
  registry: OpenAPIRegistry;
  principalCache?: PrincipalCache;
}): RouteKit {
  async function authenticate(rule: AuthRule, req: Request, cached = false): Promise<Principal | undefined> {
    const token = bearer(req);
    const resolve = cached && deps.principalCache ? deps.principalCache.resolve : resolveToken;
    const principal = token ? await resolve(deps.prisma, token) : null;
    if (rule === 'none') return principal ?? undefined;
    if (!principal) {
      throw new AppError(
        'UNAUTHENTICATED',
        token ? 'Unknown or revoked key' : 'An API key or ops token is required (Authorization: Bearer ...)',
      );
    }
    if (rule === 'installation' && principal.kind !== 'installation') {
      throw new AppError('FORBIDDEN', 'This route is for ERP installations (API key)');
    }
    if (rule === 'ops' && principal.kind !== 'ops')
      throw new AppError('ROLE_REQUIRED', 'An ops token is required');
    if (rule === 'admin' && (principal.kind !== 'ops' || principal.role !== 'ADMIN')) {
      throw new AppError('ROLE_REQUIRED', 'An admin ops token is required');
    }
    return principal;
  }

  return {
    route(router, spec, handler) {
      const openapiPath = spec.path.replace(/:(\w+)/g, '{$1}');
      const baseErrors: ErrorCode[] = spec.baseParam ? ['BASE_FORBIDDEN'] : [];
      const errorCodes = [
        ...new Set<ErrorCode>([
          'VALIDATION_FAILED',
          // any route may meet a database outage (api/error-middleware.ts)
          'DATABASE_UNAVAILABLE',
          ...authErrors[spec.auth],
          ...baseErrors,
          ...(spec.body ? bodyErrors : []),
          ...(spec.errors ?? []),
        ]),
      ];
      const responses: RouteConfig['responses'] = {};
      for (const [status, r] of Object.entries(spec.responses)) {
        responses[status] = r.schema
          ? {
              description: r.description,
              content: { [r.contentType ?? 'application/json']: { schema: r.schema } },
            }
          : { description: r.description };
      }
      const byStatus = new Map<number, ErrorCode[]>();
      for (const code of errorCodes)
        byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
      for (const [status, codes] of byStatus) {
        responses[String(status)] = {
          description: `Error: ${codes.join(', ')}`,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      }
      deps.registry.registerPath({
        method: spec.method,
        path: openapiPath,
        summary: spec.summary,
        tags: [spec.tag],
        security:
          spec.auth === 'none'
            ? []
            : spec.auth === 'installation'
              ? [{ apiKey: [] }]
              : spec.auth === 'any'
                ? [{ apiKey: [] }, { opsToken: [] }]
                : [{ opsToken: [] }],
        request: {
          params: spec.params,
          query: spec.query,
          body: spec.body
            ? { content: { 'application/json': { schema: spec.body } }, required: true }
            : undefined,
        },
        responses,
      });

      const run: RequestHandler = async (req, res) => {
        const principal = await authenticate(spec.auth, req, spec.authCache);
        const problems: { path: string; message: string }[] = [];
        const parse = <T extends z.ZodType>(
          where: string,
          schema: T | undefined,
          value: unknown,
        ): z.infer<T> => {
          if (!schema) return undefined as z.infer<T>;
          const result = schema.safeParse(value ?? {});
          if (!result.success) {
            problems.push(...fieldErrors(where, result.error));
            return undefined as z.infer<T>;
          }
          return result.data;
        };
        const unstorable = [
          ...unstorableText('params', req.params),
          ...unstorableText('query', req.query),
          ...unstorableText('body', req.body),
        ];
        if (unstorable.length)
          throw new AppError('VALIDATION_FAILED', 'The request is invalid', { fields: unstorable });
        const params = parse('params', spec.params, req.params);
        const query = parse('query', spec.query, req.query);
        const body = parse('body', spec.body, req.body);
        if (problems.length)
          throw new AppError('VALIDATION_FAILED', 'The request is invalid', { fields: problems });

        if (spec.baseParam && principal) {
          const baseId = (params as Record<string, string>)[spec.baseParam]!;
          if (!(await canAccessBase(deps.prisma, principal, baseId))) {
            throw new AppError('BASE_FORBIDDEN', 'This key does not give access to this base');
          }
        }
        const reservation =
          spec.attempts && principal
            ? await reserveAttempt(deps.prisma, spec.attempts.rules({ params, principal, req })).catch(
                (error: unknown) => {
                  if (error instanceof RateLimitExceeded)
                    throw spec.attempts!.refusal(error.retryAfterSeconds);
                  throw error;
                },
              )
            : undefined;
        let reply: Reply;
        try {
          reply = await handler({ params, query, body, principal: principal as never, req, res });
        } catch (error) {
          const counted = error instanceof AppError && spec.attempts?.countedErrors.includes(error.code);
          if (!counted) await reservation?.release();
          throw error;
        }
        await reservation?.release();
        if (!reply || res.headersSent) return;
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
        if (reply.body === undefined) {
          res.status(reply.status).end();
        } else if (Buffer.isBuffer(reply.body)) {
          res
            .status(reply.status)
            .type(reply.contentType ?? 'application/octet-stream')
            .send(reply.body);
        } else {
          res.status(reply.status).json(reply.body);
        }
      };
      router[spec.method](spec.path, ...(spec.middlewares ?? []), run);
    },
  };
}
