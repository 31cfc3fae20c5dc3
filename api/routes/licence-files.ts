import { Router } from 'express';
import { z } from 'zod';
import type { ServiceDeps } from '../../services/deps';
import { issueLicenceFile } from '../../services/licences/issue-licence-file';
import { verifyLicenceFile } from '../../services/licences/verify-licence-file';
import type { RouteKit } from '../route-kit';
import { baseId } from '../schemas';

const licenceFile = z
  .object({
    format: z.literal('gestan-licence/1'),
    keyId: z.string(),
    payload: z.string().openapi({ description: 'base64url of the licence JSON (the signed bytes)' }),
    signature: z.string().openapi({ description: 'base64url Ed25519 signature of the payload bytes' }),
  })
  .openapi('LicenceFile', { description: 'A signed licence file (docs/licence-file.md)' });

const licence = z.object({
  licenceId: z.string().nullable(),
  baseId: z.string(),
  holder: z.string().nullable(),
  version: z.enum(['A1', 'V15']),
  edition: z.enum(['STANDARD', 'ENTERPRISE']),
  mode: z.enum(['LOCAL', 'CLOUD']),
  connections: z
    .number()
    .int()
    .nullable()
    .openapi({ description: 'null: not limited (free STANDARD LOCAL)' }),
  period: z.enum(['MONTHLY', 'QUARTERLY', 'ANNUAL']).nullable(),
  extensions: z.array(z.string()).openapi({ description: 'extension codes the base may run, sorted' }),
  validFrom: z.string(),
  validUntil: z.string().openapi({
    description:
      'exclusive: the refresh date plus the offline grace, at most the licence end; 9999-12-31 for the free licence',
  }),
  status: z.enum(['ACTIVE', 'PAST_DUE']),
  issuedAt: z.string(),
  refreshAfter: z
    .string()
    .nullable()
    .openapi({ description: 'from this day an online ERP fetches a new file; null: never needed' }),
});

export function licenceFileRoutes(kit: RouteKit, deps: ServiceDeps): Router {
  const router = Router();

  kit.route(
    router,
    {
      method: 'get',
      path: '/bases/:baseId/licence/file',
      summary: 'The signed licence file of a base (manual registration offline; restore after a local clear)',
      tag: 'licences',
      auth: 'any',
      params: z.object({ baseId }),
      baseParam: 'baseId',
      responses: { 200: { description: 'the file, as an attachment', schema: licenceFile } },
      errors: ['BASE_NOT_FOUND'],
    },
    async ({ params }) => ({
      status: 200,
      body: await issueLicenceFile(deps, params.baseId, new Date()),
      headers: { 'Content-Disposition': `attachment; filename="licence-${params.baseId}.json"` },
    }),
  );

  kit.route(
    router,
    {
      method: 'post',
      path: '/licences/verify',
      summary: 'Check a licence file (anyone holding one may): its signature, key and dates',
      tag: 'licences',
      auth: 'none',
      // the file's shape is the verifier's business: a wrong one is 422 MALFORMED, not a 400
      body: z.object({
        file: z.union([z.string().max(65_536), z.record(z.string(), z.unknown())]).openapi({
          description: 'the licence file: its JSON object or its text',
        }),
      }),
      responses: {
        200: { description: 'the file verifies', schema: z.object({ valid: z.literal(true), licence }) },
      },
      errors: ['LICENCE_FILE_INVALID'],
    },
    async ({ body }) => ({
      status: 200,
      body: { valid: true, licence: verifyLicenceFile(deps, body.file, new Date()) },
    }),
  );

  kit.route(
    router,
    {
      method: 'get',
      path: '/licences/public-keys',
      summary: 'The public keys that verify licence files (ERPs refresh theirs when online)',
      tag: 'licences',
      auth: 'none',
      responses: {
        200: {
          description: 'key id → SPKI PEM; the active key signs new files',
          schema: z.object({ activeKeyId: z.string(), keys: z.record(z.string(), z.string()) }),
        },
      },
    },
    async () => ({
      status: 200,
      body: { activeKeyId: deps.licenceKeys.activeKeyId, keys: deps.licenceKeys.publicKeysPem() },
    }),
  );

  return router;
}
