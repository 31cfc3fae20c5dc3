/**
 * What the purchase and renewal benchmarks share: the buyer's billing details, a closed loop with a fixed
 * concurrency, a process's memory from /proc, stripe-mock behind a proxy that makes PaymentIntents succeed
 * (stripe-mock takes no money, renewals charge off-session), and one card purchase in its two requests —
 * the order, then the `payment_intent.succeeded` webhook signed as Stripe signs it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import Stripe from 'stripe';
import { freePort } from '../infra/embedded/ports';
import { subscriptionWorkflowId } from '../workflows/ids';
import type { BenchBase } from './common';

export const BILLING = {
  companyName: 'Garage Martin',
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email: 'paul@garage-martin.example.fr',
};

export const round = (v: number) => Math.round(v * 10) / 10;
export const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;

/** Runs `task` on every item with `concurrency` under way at once; answers the wall time in seconds. */
export async function inParallel<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM), in MiB. */
export function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kib('VmRSS') / 1024), hwmMiB: Math.round(kib('VmHWM') / 1024) };
}

/** stripe-mock behind a proxy: created PaymentIntents come back `succeeded` (stripe-mock takes no money). */
export async function startSucceedingStripe(upstream: string) {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            let body = Buffer.concat(parts);
            if (req.method === 'POST' && req.url?.startsWith('/v1/payment_intents') && up.statusCode === 200)
              body = Buffer.from(
                JSON.stringify({ ...JSON.parse(body.toString('utf8')), status: 'succeeded' }),
              );
            res.writeHead(up.statusCode ?? 502, {
              'content-type': 'application/json',
              'content-length': body.length,
            });
            res.end(body);
          });
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      forward.end(Buffer.concat(chunks));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface LicenceOrder {
  purchaseId: string;
  quote: { totalInclVatCents: number };
  payment: { paymentIntentId: string };
}

/** The ERP's card order of an Enterprise Local licence, 3 connections, annual: its status and answer. */
export async function orderLicence(
  apiUrl: string,
  base: BenchBase,
): Promise<{ status: number; order: LicenceOrder }> {
  const res = await fetch(`${apiUrl}/bases/${base.baseId}/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${base.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      idempotencyKey: `bench-${base.baseId}`,
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 3,
      period: 'ANNUAL',
      paymentMethod: 'ONLINE',
      billing: BILLING,
      terms: { version: '2026-01', accepted: true },
    }),
  });
  return { status: res.status, order: (await res.json()) as LicenceOrder };
}

const stripe = new Stripe('sk_test_bench');

/** Stripe's `payment_intent.succeeded` for the order, signed with the webhook secret: the answer's status. */
export async function sendPaymentSucceeded(
  apiUrl: string,
  base: BenchBase,
  order: LicenceOrder,
  webhookSecret: string,
): Promise<number> {
  const payload = JSON.stringify({
    id: `evt_${crypto.randomBytes(8).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'payment_intent.succeeded',
    data: {
      object: {
        id: order.payment.paymentIntentId,
        object: 'payment_intent',
        amount: order.quote.totalInclVatCents,
        amount_received: order.quote.totalInclVatCents,
        currency: 'eur',
        status: 'succeeded',
        payment_method: 'pm_card_visa',
        last_payment_error: null,
        metadata: {
          workflowId: subscriptionWorkflowId(base.baseId),
          purchaseId: order.purchaseId,
          baseId: base.baseId,
        },
      },
    },
  });
  const hook = await fetch(`${apiUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret }),
    },
    body: payload,
  });
  await hook.text();
  return hook.status;
}
