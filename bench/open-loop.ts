/**
 * An open-loop load generator: request i is due at start + i / rate, whatever happened to the others, and
 * its latency runs from that due time to the end of its answer — so a slow answer, a socket still busy or the
 * generator itself falling behind all count (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: it gives each connection a per-second budget and lets it send
 * back-to-back until the budget is spent, so each second starts with a burst of `connections` concurrent
 * requests and then idles; the latency it reports is that burst's queueing (corrected as if requests had been
 * due every millisecond), not the latency at a steady rate.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type autocannon from 'autocannon';

export interface OpenLoopRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface OpenLoopResult {
  /** answers per second over the phase */
  requestsPerSecond: number;
  /** how many requests were due, and sent */
  sent: number;
  p50: number;
  p99: number;
  max: number;
  statusCodes: Record<string, number>;
  errors: number;
}

export async function openLoop(options: {
  url: string;
  /** requests per second */
  rate: number;
  seconds: number;
  /** keep-alive sockets the generator may open (requests wait for one when all are busy) */
  sockets: number;
  next: () => OpenLoopRequest;
  /** sent at the same rate first and not counted: sockets opened, caches and JIT warm (default 2) */
  warmupSeconds?: number;
}): Promise<OpenLoopResult> {
  const warmup = Math.round(options.rate * (options.warmupSeconds ?? 2));
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.sockets });
  const total = warmup + Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const statusCodes: Record<string, number> = {};
  let sent = 0;
  let done = 0;
  let errors = 0;
  const start = performance.now();
  const interval = 1000 / options.rate;

  await new Promise<void>((resolve) => {
    const finish = (i: number, code: string | undefined) => {
      latencies[i] = performance.now() - (start + i * interval);
      if (i >= warmup) {
        if (code) statusCodes[code] = (statusCodes[code] ?? 0) + 1;
        else errors += 1;
      }
      done += 1;
      if (done === total) resolve();
    };
    const fire = (i: number) => {
      const r = options.next();
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: r.method,
          path: r.path,
          headers: r.body ? { ...r.headers, 'content-length': Buffer.byteLength(r.body) } : (r.headers ?? {}),
          agent,
        },
        (res) => {
          res.resume();
          res.on('end', () => finish(i, String(res.statusCode)));
          res.on('error', () => finish(i, undefined));
        },
      );
      req.on('error', () => finish(i, undefined));
      req.end(r.body);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000 - (options.warmupSeconds ?? 2);
  agent.destroy();
  const sorted = Array.from(latencies.subarray(warmup)).sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
  return {
    requestsPerSecond: Math.round((done - warmup) / elapsed),
    sent: sent - warmup,
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    statusCodes,
    errors,
  };
}

/** The next request of an autocannon request list whose first entry builds each request (`setupRequest`). */
export function fromAutocannon(requests: autocannon.Request[]): () => OpenLoopRequest {
  const first = requests[0]!;
  return () => {
    const built = first.setupRequest
      ? (first.setupRequest as (req: autocannon.Request, context: object) => autocannon.Request)(
          { method: first.method ?? 'GET', path: first.path ?? '/' },
          {},
        )
      : first;
    return {
      method: built.method ?? 'GET',
      path: built.path ?? '/',
      headers: built.headers as Record<string, string> | undefined,
      body: typeof built.body === 'string' ? built.body : undefined,
    };
  };
}
