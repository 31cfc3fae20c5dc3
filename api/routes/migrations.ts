import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { parseV15Csv } from '../../domain/v15-import';
import { actorOf } from '../../services/auth/principal';
import type { ServiceDeps } from '../../services/deps';
import { importV15Licences } from '../../services/licences/import-v15-licences';
import {
  getLicenceMigration,
  listLicenceMigrations,
  requestLicenceMigration,
} from '../../services/migrations/request-licence-migration';
import { textBody } from '../body-parsing';
import type { RouteKit } from '../route-kit';
import { baseId, email } from '../schemas';

const baseParams = z.object({ baseId });

const migrationView = z.object({
  migrationId: z.string(),
  baseId: z.string(),
  status: z.enum(['RUNNING', 'COMPLETED', 'REFUSED']),
  v15LicenceId: z.string(),
  a1LicenceId: z.string().nullable(),
  edition: z.string(),
  mode: z.string(),
  connections: z.number().int(),
  endDate: z.string().openapi({ description: 'last day covered by the v15 licence, and by the A1 licence' }),
  email: z.string(),
  refusal: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  override: z.object({ reason: z.string(), by: z.string().nullable() }).nullable(),
  requestedBy: z.object({ type: z.string(), id: z.string().nullable() }),
  confirmationSentAt: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});

const importRow = z
  .object({
    baseId: z.string(),
    holder: z.string(),
    email: z.string().optional(),
    edition: z.string().openapi({ example: 'ENTERPRISE' }),
    mode: z.string().optional().openapi({ description: 'LOCAL (default) or CLOUD' }),
    connections: z.union([z.number(), z.string()]),
    endDate: z
      .string()
      .openapi({ description: 'last valid day, YYYY-MM-DD or DD/MM/YYYY', example: '2027-09-30' }),
  })
  .partial()
  .passthrough();

const importAnswer = z.object({
  received: z.number().int(),
  imported: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(z.object({ line: z.number().int(), baseId: z.string().optional(), reason: z.string() })),
});

export function migrationRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'post',
      path: '/ops/licences/v15-imports',
      summary:
        'Import v15 licences in bulk: a JSON array of rows, or a CSV file (Content-Type: text/csv, header line ' +
        'baseId,holder,email,edition,mode,connections,endDate; commas or semicolons). Upserted by base ID: ' +
        'importing the same file again changes nothing. Bad rows are reported with their line and reason.',
      tag: 'ops',
      auth: 'ops',
      middlewares: [textBody(['text/csv', 'text/plain'], '5mb')],
      body: z.union([z.array(importRow).min(1).max(20_000), z.string().min(1)]),
      responses: { 200: { description: 'what was imported, and the rows refused', schema: importAnswer } },
    },
    async ({ body, principal }) => {
      let rows: { line: number; value: unknown }[];
      if (typeof body === 'string') {
        const parsed = parseV15Csv(body);
        if (!parsed.ok) {
          throw new AppError('VALIDATION_FAILED', 'The CSV file is not readable', {
            fields: [{ path: 'body', message: parsed.reason }],
          });
        }
        rows = parsed.raw;
      } else {
        rows = body.map((value, i) => ({ line: i + 1, value }));
      }
      return {
        status: 200,
        body: await importV15Licences(deps.prisma, { actor: actorOf(principal), rows }),
      };
    },
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/bases/:baseId/licence/migrations',
      summary:
        "Transfer the remaining time of the base's ENTERPRISE v15 licence (more than one month left), free, to an " +
        'A1 licence ending on the same day (auto-renew off). Once per base. Ops may override an overlap with a ' +
        'paid A1 licence, with a reason (audited).',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      body: z.object({
        email: email.optional().openapi({
          description:
            'where the confirmation goes (default: the address imported with the v15 licence, then the account)',
        }),
        override: z
          .object({ reason: z.string().trim().min(10).max(2000) })
          .optional()
          .openapi({ description: 'ops only: migrate although the base has an A1 paid licence' }),
      }),
      responses: {
        201: { description: 'migrated: the A1 licence is active', schema: migrationView },
        202: {
          description: 'accepted and still running (no worker answered in time): read it again with GET',
          schema: migrationView,
        },
      },
      errors: [
        'V15_LICENCE_NOT_FOUND',
        'ALREADY_TRANSFERRED',
        'A1_LICENCE_ACTIVE',
        'MIGRATION_NOT_ELIGIBLE_EDITION',
        'MIGRATION_TOO_LATE',
        'MIGRATION_EMAIL_REQUIRED',
        'ROLE_REQUIRED',
      ],
    },
    async ({ params, body, principal }) => {
      const migration = await requestLicenceMigration(deps, {
        actor: actorOf(principal),
        baseId: params.baseId,
        request: body,
      });
      return { status: migration.status === 'COMPLETED' ? 201 : 202, body: migration };
    },
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/licence/migrations',
      summary: 'The v15 → A1 migration of the base and its outcome',
      tag: 'licences',
      auth: 'any',
      params: baseParams,
      baseParam: 'baseId',
      responses: { 200: { description: 'the migration', schema: migrationView } },
      errors: ['MIGRATION_NOT_FOUND'],
    },
    async ({ params }) => ({ status: 200, body: await getLicenceMigration(deps, params.baseId) }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/ops/licence-migrations',
      summary: 'List v15 → A1 migrations and their outcome, newest first',
      tag: 'ops',
      auth: 'ops',
      query: z.object({
        status: z.enum(['RUNNING', 'COMPLETED', 'REFUSED']).optional(),
        baseId: baseId.optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        offset: z.coerce.number().int().min(0).default(0),
      }),
      responses: {
        200: {
          description: 'one page of migrations',
          schema: z.object({ total: z.number().int(), items: z.array(migrationView) }),
        },
      },
    },
    async ({ query }) => ({ status: 200, body: await listLicenceMigrations(deps, query) }),
  );

  return router;
}
