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

export function generateDocument(registry: OpenAPIRegistry) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Licensing, accounts and credits API',
      version: '1.0.0',
      description:
        'Errors are `{ "error": { "code", "message", "details" } }`; every code and its HTTP status is listed in docs/errors.md.',
    },
  });
}
