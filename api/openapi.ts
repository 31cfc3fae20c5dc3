import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorStatus } from '../domain/errors';

extendZodWithOpenApi(z);

export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(errorStatus) as [keyof typeof errorStatus, ...(keyof typeof errorStatus)[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

export function createRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.register('Error', errorBodySchema);
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'Installation API key (`lk_...`), from POST /installations',
  });
  registry.registerComponent('securitySchemes', 'opsToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'Ops token (`ops_...`), from `npm run ops -- token:create`',
  });
  return registry;
}

/**
 * `operationId` from the method and path, e.g. `POST /accounts/{accountId}/confirmation` →
 * `postAccountsAccountIdConfirmation`: stable, unique (one operation per method and path), and the name a
 * generated client gives the call.
 */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => segment.replace(/[{}]/g, '').split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

export function generateDocument(registry: OpenAPIRegistry, serverUrl: string) {
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    servers: [{ url: serverUrl, description: 'this service' }],
    info: {
      title: 'Licensing, accounts and credits API',
      version: '1.0.0',
      description:
        'Errors are `{ "error": { "code", "message", "details" } }`; every code and its HTTP status is listed in docs/errors.md.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
  });
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = (item as Record<string, { operationId?: string } | undefined>)[method];
      if (operation) operation.operationId ??= operationIdOf(method, path);
    }
  }
  return document;
}
