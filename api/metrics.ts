/**
 * HTTP side of the metrics: the latency middleware (labelled with the declared route pattern, never the
 * raw path, so `/bases/123.../sessions` stays one series), and the registry of business figures read from
 * the database at scrape time (services/metrics/read-business-figures.ts), cached a few seconds so that
 * several scrapers, or a scraper retrying, cost one set of queries.
 */
import type { Request, RequestHandler } from 'express';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Metrics } from '../infra/metrics';
import {
  OPS_QUEUES,
  type BusinessFigures,
  type PaymentFigure,
} from '../services/metrics/read-business-figures';

/** The route pattern that answered (`/bases/:baseId/sessions`), the mount point of a sub-app, or `unmatched`. */
export function routeLabel(req: Request): string {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
  if (req.baseUrl) return req.baseUrl;
  return 'unmatched';
}

export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpRequestDuration.startTimer();
    // the route is known once the router matched it, so it is read when the answer has gone out
    res.once('finish', () => {
      stop({ method: req.method, route: routeLabel(req), status: String(res.statusCode) });
    });
    next();
  };
}

/** One load at a time, its result reused for `ttlMs`; a failed load is not cached. */
export function cachedLoader<T>(load: () => Promise<T>, ttlMs: number, now = () => Date.now()) {
  let cached: { at: number; value: T } | undefined;
  let inFlight: Promise<T> | undefined;
  return (): Promise<T> => {
    if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached.value);
    inFlight ??= load()
      .then((value) => {
        cached = { at: now(), value };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/**
 * The business figures as Prometheus metrics, in their own registry (one per app). If the database does
 * not answer, `business_metrics_up` is 0 and the other series are left out: the scrape itself still works.
 */
export function businessMetricsRegistry(load: () => Promise<BusinessFigures>): Registry {
  const registry = new Registry();
  // prom-client collects every metric at once: each awaits the same (cached, shared) load
  const read = () => load().catch(() => undefined);
  new Gauge({
    name: 'business_metrics_up',
    help: '1 when the business figures below could be read from the database at this scrape',
    registers: [registry],
    async collect() {
      this.set((await read()) ? 1 : 0);
    },
  });
  // the payments read from the ledger, counted and summed
  const paymentCounter = (name: string, help: string, value: (p: PaymentFigure) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['kind', 'method', 'status'] as const,
      registers: [registry],
      async collect() {
        const figures = await read();
        this.reset();
        for (const p of figures?.payments ?? [])
          this.inc({ kind: p.kind, method: p.method, status: p.status }, value(p));
      },
    });
  paymentCounter(
    'payments_total',
    'Payments recorded (licence purchases, renewals, changes; credit purchases paid by card) by kind, method and status',
    (p) => p.count,
  );
  paymentCounter(
    'payments_amount_cents_total',
    'Amount of the payments recorded, in euro cents incl. VAT, by kind, method and status',
    (p) => p.amountCents,
  );
  new Gauge({
    name: 'credit_purchases',
    help: 'Support pack and wallet recharge purchases by product and status',
    labelNames: ['product', 'status'] as const,
    registers: [registry],
    async collect() {
      const figures = await read();
      this.reset();
      for (const c of figures?.creditPurchases ?? [])
        this.set({ product: c.product, status: c.status }, c.count);
    },
  });
  new Gauge({
    name: 'licences',
    help: 'Licences by product version and status',
    labelNames: ['version', 'status'] as const,
    registers: [registry],
    async collect() {
      const figures = await read();
      this.reset();
      for (const l of figures?.licences ?? []) this.set({ version: l.version, status: l.status }, l.count);
    },
  });
  new Gauge({
    name: 'ops_queue_size',
    help: 'Items waiting for ops: unmatched credit purchases, cheques/transfers, free licence requests, failed renewals (PAST_DUE)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const figures = await read();
      this.reset();
      if (figures) for (const q of OPS_QUEUES) this.set({ queue: q }, figures.queues[q].size);
    },
  });
  new Gauge({
    name: 'ops_queue_oldest_seconds',
    help: 'How long the oldest item of each ops queue has waited (0 when the queue is empty)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const figures = await read();
      this.reset();
      if (figures) for (const q of OPS_QUEUES) this.set({ queue: q }, figures.queues[q].oldestSeconds);
    },
  });
  new Gauge({
    name: 'sessions_active',
    help: 'ERP sessions that count against their base: ACTIVE and heard from within the heartbeat timeout',
    registers: [registry],
    async collect() {
      const figures = await read();
      this.reset();
      if (figures) this.set(figures.sessionsActive);
    },
  });
  return registry;
}
