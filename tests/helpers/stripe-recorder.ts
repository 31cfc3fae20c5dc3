/**
 * A recording HTTP proxy in front of the run's stripe-mock: tests see what our code actually sent to
 * Stripe (method, path, Idempotency-Key, form fields), and can make Stripe answer what stripe-mock never
 * does (a declined card, a 500, a succeeded off-session charge) for chosen requests.
 */
import http from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  /** the form-encoded body, flat keys as Stripe sees them (`metadata[workflowId]`) */
  form: Record<string, string>;
}

export interface RequestMatch {
  method?: string;
  path: string | RegExp;
  idempotencyKey?: RegExp;
}

export type Reply =
  /** answered by the proxy; the request does not reach stripe-mock */
  | { status: number; body: unknown }
  /** forwarded to stripe-mock, its JSON answer changed on the way back */
  | { patch: (body: Record<string, unknown>) => Record<string, unknown> }
  /**
   * forwarded to stripe-mock (Stripe did receive it), but no answer ever comes back: the caller is left
   * waiting as if its process died after sending (the connection is closed by `stop()`)
   */
  | { stall: true };

export interface StripeRecorder {
  url: string;
  requests: RecordedRequest[];
  /** the next `times` requests that match get `reply` instead of stripe-mock's plain answer */
  answer(match: RequestMatch, reply: Reply, times?: number): void;
  stop(): Promise<void>;
}

/** The body Stripe answers a declined card with (HTTP 402). */
export function cardDeclined(declineCode: string, message = 'Your card has insufficient funds.') {
  return {
    status: 402,
    body: { error: { type: 'card_error', code: 'card_declined', decline_code: declineCode, message } },
  };
}

interface Rule {
  match: RequestMatch;
  reply: Reply;
  left: number;
}

function matches(match: RequestMatch, method: string, path: string, key: string | undefined): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.idempotencyKey && !(key !== undefined && match.idempotencyKey.test(key))) return false;
  return typeof match.path === 'string' ? match.path === path : match.path.test(path);
}

export async function startStripeRecorder(
  upstream = process.env.TEST_STRIPE_API_BASE,
): Promise<StripeRecorder> {
  if (!upstream) throw new Error('TEST_STRIPE_API_BASE is not set: run through jest (global set-up)');
  const target = new URL(upstream);
  const requests: RecordedRequest[] = [];
  const rules: Rule[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const path = new URL(req.url ?? '/', 'http://proxy').pathname;
      const header = req.headers['idempotency-key'];
      const key = typeof header === 'string' ? header : undefined;
      requests.push({
        method,
        path,
        idempotencyKey: key,
        form: Object.fromEntries(new URLSearchParams(body.toString('utf8'))),
      });
      const rule = rules.find((r) => r.left > 0 && matches(r.match, method, path, key));
      if (rule) rule.left -= 1;
      if (rule && 'status' in rule.reply) {
        res.writeHead(rule.reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(rule.reply.body));
        return;
      }
      const patch = rule && 'patch' in rule.reply ? rule.reply.patch : undefined;
      const stall = rule !== undefined && 'stall' in rule.reply;
      const forward = http.request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (upstreamRes) => {
          const answer: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => answer.push(chunk));
          upstreamRes.on('end', () => {
            if (stall) return;
            let out = Buffer.concat(answer);
            if (patch) out = Buffer.from(JSON.stringify(patch(JSON.parse(out.toString('utf8')))));
            const headers = { ...upstreamRes.headers, 'content-length': String(out.length) };
            delete headers['transfer-encoding'];
            res.writeHead(upstreamRes.statusCode ?? 502, headers);
            res.end(out);
          });
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`stripe-recorder: ${error.message}`);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(match, reply, times = 1) {
      rules.push({ match, reply, left: times });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
