import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import type { RouteKit } from '../route-kit';

export type ReadinessCheck = () => Promise<void>;

async function within(ms: number, check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `failing: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(kit: RouteKit, checks: Record<string, ReadinessCheck>): Router {
  const router = Router();
  kit.route(
    router,
    {
      method: 'get',
      path: '/healthz',
      summary: 'The process is up',
      tag: 'health',
      auth: 'none',
      responses: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
    },
    async () => ({ status: 200, body: { status: 'ok' } }),
  );
  kit.route(
    router,
    {
      method: 'get',
      path: '/readyz',
      summary: 'The database, Temporal and SMTP answer',
      tag: 'health',
      auth: 'none',
      responses: {
        200: {
          description: 'ready',
          schema: z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }),
        },
      },
      errors: ['NOT_READY'],
    },
    async () => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((name) => within(3000, checks[name]!)));
      const report = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
      if (results.some((r) => r !== 'ok'))
        throw new AppError('NOT_READY', 'A dependency is not reachable', { checks: report });
      return { status: 200, body: { status: 'ok', checks: report } };
    },
  );
  return router;
}
