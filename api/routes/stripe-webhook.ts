/**
 * POST /webhooks/stripe. Stripe signs the exact bytes it sends, so this route reads the raw body (app.ts
 * gives this path `express.raw` before the JSON parser) and can't use the route kit's body validation;
 * it is declared in the OpenAPI document by hand instead. Authentication is the signature.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { ServiceDeps } from '../../services/deps';
import { handleStripeEvent } from '../../services/payments/handle-stripe-event';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

const received = z.object({
  received: z.literal(true),
  duplicate: z.boolean().openapi({ description: 'this event was delivered before: nothing was done' }),
  outcome: z
    .enum(['signalled', 'workflow-not-found', 'no-workflow', 'ignored', 'recorded'])
    .optional()
    .openapi({ description: 'recorded: a dispute or early fraud warning, in the ops queue' }),
});

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: STRIPE_WEBHOOK_PATH,
    summary:
      'Stripe events (signed): PaymentIntent outcomes are passed to the waiting workflow; disputes and early fraud warnings are recorded for ops',
    tags: ['webhooks'],
    security: [],
    request: {
      headers: z.object({ 'stripe-signature': z.string().openapi({ description: 'Stripe-Signature' }) }),
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.object({ id: z.string(), type: z.string(), data: z.object({ object: z.unknown() }) }),
          },
        },
      },
    },
    responses: {
      200: {
        description: 'accepted (also for duplicates and events we ignore)',
        content: { 'application/json': { schema: received } },
      },
      400: {
        description: 'Error: WEBHOOK_SIGNATURE_INVALID',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  });
}

export function stripeWebhookRoutes(registry: OpenAPIRegistry, deps: ServiceDeps): Router {
  document(registry);
  const router = Router();
  const handler: RequestHandler = async (req, res) => {
    // a Buffer when the raw parser ran (JSON content type); anything else can't carry a valid signature
    const payload = Buffer.isBuffer(req.body) ? req.body : '';
    const result = await handleStripeEvent(deps, { payload, signature: req.get('stripe-signature') });
    if (result.duplicate) {
      res.status(200).json({ received: true, duplicate: true });
      return;
    }
    if (result.outcome === 'workflow-not-found') {
      req.log.warn(
        { eventId: result.eventId, type: result.type, workflowId: result.workflowId },
        'Stripe event for a workflow that no longer runs: acknowledged, not delivered',
      );
    }
    res.status(200).json({ received: true, duplicate: false, outcome: result.outcome });
  };
  router.post(STRIPE_WEBHOOK_PATH, handler);
  return router;
}
