/**
 * The ops commands that go through the HTTP API (the same routes as the ops console), with an ops token:
 * `--url`/`OPS_API_URL` (default http://127.0.0.1:$PORT) and `--token`/`OPS_TOKEN`. Tables for people,
 * `--json` for scripts. Exit codes: 0 done, 1 failed (refused by the API, or unreachable), 2 usage,
 * 3 partial (a bulk replay where some payments were not paid, or a single replay declined again).
 */
import crypto from 'node:crypto';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, PARTIAL: 3 } as const;

export const apiUsage = `Over the HTTP API (ops token: --token or OPS_TOKEN; API: --url or OPS_API_URL):

  payments:failed [--kind renewal|licence_purchase|credit_purchase] [--base <id>] [--replayable]
                                                 failed payments (renewals in dunning, unpaid purchases)
  payments:replay <paymentId> --reason <why>     retry a failed renewal now (ALREADY_PAID: nothing charged)
  payments:replay-bulk --reason <why> [--filter baseId=..|failureCode=..|minAttempts=..]... [--limit N] [--dry-run]
                                                 replay every matching renewal, one progress line each
  purchases:unmatched                            paid credit purchases waiting for an account
  purchases:assign <purchaseId> <accountId>      credit an unmatched purchase to an account
  refunds:list <creditPurchaseId>                a support pack's or recharge's refunds, and what is left to refund
  refunds:create <creditPurchaseId> --amount <cents> --reason <why> [--key <idempotency key>]
                                                 refund (debit entry, credit note, Stripe refund, once each);
                                                 run again with the printed --key after an error: never twice
  manual-payments:list                           cheques/transfers waiting for confirmation
  manual-payments:confirm <purchaseId> --reference <cheque/transfer ref> [--reason <why>]
  manual-payments:cancel <purchaseId> --reason <why>
  renewals-to-pay:list                           cheque/transfer renewals whose invoice to pay is out
  renewals-to-pay:confirm <baseId> --reference <cheque/transfer ref> [--reason <why>]
                                                 its payment received: the next period is recorded once
  free-licences:list                             free licence requests waiting for a decision
  free-licences:approve <purchaseId> [--reason <why>]
  free-licences:reject <purchaseId> --reason <why>   (the reason is emailed to the requester)
  workflows:stuck [--older-than <hours>] [--waiting-on ops|payment]
  disputes:list [--outcome open|won|lost|closed] [--base <id>]
                                                 card disputes and fraud warnings (open: by evidence deadline)
  disputes:show <disputeId>                      one dispute, with its reversal if lost
  disputes:acknowledge <disputeId> --reason <why>  an early fraud warning dealt with: out of the queue

  --json     machine-readable output on stdout (progress and messages go to stderr)
Exit codes: 0 done, 1 failed, 2 usage, 3 partial (some payments of a bulk replay not paid, or declined again).`;

export class UsageError extends Error {}

export interface ApiOptions {
  url: string;
  token: string;
  json: boolean;
  values: Record<string, string | boolean | string[] | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call(o: ApiOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, o.url), {
      method,
      headers: {
        authorization: `Bearer ${o.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'UNREACHABLE', `the API at ${o.url} is unreachable (${(error as Error).message})`);
  }
  const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) {
    throw new ApiError(
      res.status,
      data?.error?.code ?? String(res.status),
      data?.error?.message ?? res.statusText,
    );
  }
  return data;
}

/** Column-aligned table; empty list: a line saying so. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : `${v as string | number | boolean}`;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

const euros = (cents: unknown) => (typeof cents === 'number' ? (cents / 100).toFixed(2) : '');

function need(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(what);
  return value.trim();
}

function print(o: ApiOptions, data: unknown, human: () => string): void {
  o.out(o.json ? JSON.stringify(data, null, 2) : human());
}

function bulkFilter(values: ApiOptions['values']): Record<string, string | number> {
  const filter: Record<string, string | number> = {};
  const raw = values.filter;
  for (const item of Array.isArray(raw) ? raw : raw ? [String(raw)] : []) {
    const match = /^(baseId|failureCode|minAttempts)=(.+)$/.exec(item);
    if (!match)
      throw new UsageError(
        `--filter takes baseId=<id>, failureCode=<code> or minAttempts=<n>, not "${item}"`,
      );
    filter[match[1]!] = match[1] === 'minAttempts' ? Number(match[2]) : match[2]!;
  }
  return filter;
}

type Command = (o: ApiOptions, args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  async 'payments:failed'(o) {
    const query = new URLSearchParams();
    if (o.values.kind) query.set('kind', String(o.values.kind).toUpperCase());
    if (o.values.base) query.set('baseId', String(o.values.base));
    if (o.values.replayable) query.set('replayable', 'true');
    const rows = (await call(o, 'GET', `/ops/payments/failed?${query.toString()}`)) as Record<
      string,
      unknown
    >[];
    print(o, rows, () =>
      table(
        rows.map((r) => ({ ...r, amount: euros(r.amountCents), replayable: r.replayable ? 'yes' : 'no' })),
        [
          'id',
          'kind',
          'baseId',
          'accountId',
          'holderName',
          'amount',
          'attempts',
          'lastError',
          'nextRetryOn',
          'status',
          'replayable',
        ],
      ),
    );
    return EXIT.OK;
  },

  async 'payments:replay'(o, [paymentId]) {
    const id = need(paymentId, 'payments:replay needs the payment id');
    const reason = need(o.values.reason, 'payments:replay needs --reason (kept in the audit log)');
    const result = (await call(o, 'POST', `/ops/payments/${id}/replay`, { reason })) as {
      outcome: string;
      message: string;
      baseId: string;
    };
    print(o, result, () => `base ${result.baseId}: ${result.outcome} — ${result.message}`);
    return result.outcome === 'DECLINED' ? EXIT.PARTIAL : EXIT.OK;
  },

  async 'payments:replay-bulk'(o) {
    const reason = need(o.values.reason, 'payments:replay-bulk needs --reason (kept in the audit log)');
    const limit = o.values.limit === undefined ? 100 : Number(o.values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit takes 1 to 500');
    const filter = bulkFilter(o.values);
    const listed = (await call(o, 'POST', '/ops/payments/replays', {
      filter,
      dryRun: true,
      limit,
      reason,
    })) as {
      matched: number;
      items: {
        paymentId: string;
        baseId: string;
        amountCents: number;
        attempts: number;
        lastError: string;
      }[];
    };
    if (o.values['dry-run']) {
      print(o, { dryRun: true, ...listed }, () =>
        [
          `${listed.items.length} payment(s) would be replayed (dry run: nothing charged)`,
          table(
            listed.items.map((i) => ({ ...i, amount: euros(i.amountCents) })),
            ['paymentId', 'baseId', 'amount', 'attempts', 'lastError'],
          ),
        ].join('\n'),
      );
      return EXIT.OK;
    }
    const results: Record<string, unknown>[] = [];
    let notPaid = 0;
    for (const [n, item] of listed.items.entries()) {
      const progress = `[${n + 1}/${listed.items.length}] ${item.paymentId} base ${item.baseId}`;
      try {
        const r = (await call(o, 'POST', `/ops/payments/${item.paymentId}/replay`, { reason })) as {
          outcome: string;
          message: string;
        };
        if (r.outcome === 'DECLINED') notPaid += 1;
        results.push({ ...item, outcome: r.outcome, message: r.message });
        o.err(`${progress}: ${r.outcome} — ${r.message}`);
      } catch (error) {
        if (!(error instanceof ApiError) || error.code === 'UNREACHABLE') throw error;
        notPaid += 1;
        results.push({ ...item, outcome: 'ERROR', message: `${error.code}: ${error.message}` });
        o.err(`${progress}: ERROR ${error.code} — ${error.message}`);
      }
    }
    print(o, { dryRun: false, matched: listed.matched, items: results }, () =>
      [
        table(
          results.map((r) => ({ ...r, amount: euros(r.amountCents) })),
          ['paymentId', 'baseId', 'amount', 'outcome', 'message'],
        ),
        `${results.length - notPaid} of ${results.length} paid or already paid`,
      ].join('\n'),
    );
    return notPaid > 0 ? EXIT.PARTIAL : EXIT.OK;
  },

  async 'purchases:unmatched'(o) {
    const rows = (await call(o, 'GET', '/ops/purchases/unmatched')) as Record<string, unknown>[];
    print(o, rows, () =>
      table(
        rows.map((r) => {
          const buyer = (r.buyer ?? {}) as { companyName?: string; email?: string };
          return {
            ...r,
            amount: euros(r.amountCents),
            buyer: [buyer.companyName, buyer.email].filter(Boolean).join(' '),
          };
        }),
        ['purchaseId', 'number', 'product', 'amount', 'claimedAccountId', 'buyer', 'paidAt'],
      ),
    );
    return EXIT.OK;
  },

  async 'purchases:assign'(o, [purchaseId, account]) {
    const id = need(purchaseId, 'purchases:assign needs the purchase id and the account id');
    const accountId = Number(need(account, 'purchases:assign needs the purchase id and the account id'));
    if (!Number.isInteger(accountId) || accountId < 1)
      throw new UsageError('the account id is a positive integer');
    const r = (await call(o, 'POST', `/ops/purchases/${id}/assign`, { accountId })) as { number: number };
    print(o, r, () => `purchase no. ${r.number} credited to account ${accountId}`);
    return EXIT.OK;
  },

  async 'refunds:list'(o, [purchaseId]) {
    const id = need(purchaseId, 'refunds:list needs the credit purchase id');
    const r = (await call(o, 'GET', `/ops/credit-purchases/${id}/refunds`)) as {
      number: number;
      amountCents: number;
      refundableCents: number;
      refunds: Record<string, unknown>[];
    };
    print(o, r, () =>
      [
        `purchase no. ${r.number}: paid ${euros(r.amountCents)} EUR, ${euros(r.refundableCents)} EUR left to refund`,
        table(
          r.refunds.map((x) => ({ ...x, amount: euros(x.amountCents) })),
          [
            'refundId',
            'status',
            'amount',
            'debitedCredit',
            'creditNoteNumber',
            'providerRefundId',
            'createdAt',
          ],
        ),
      ].join('\n'),
    );
    return EXIT.OK;
  },

  async 'refunds:create'(o, [purchaseId]) {
    const id = need(purchaseId, 'refunds:create needs the credit purchase id');
    const amountCents = Number(need(o.values.amount, 'refunds:create needs --amount (cents, VAT included)'));
    if (!Number.isSafeInteger(amountCents) || amountCents < 1)
      throw new UsageError('--amount is a positive whole number of cents');
    const reason = need(
      o.values.reason,
      'refunds:create needs --reason (on the credit note, in the audit log)',
    );
    const idempotencyKey =
      typeof o.values.key === 'string' && o.values.key !== '' ? o.values.key : `cli-${crypto.randomUUID()}`;
    o.err(`refund key ${idempotencyKey} (run again with --key ${idempotencyKey} to retry the same refund)`);
    const r = (await call(o, 'POST', `/ops/credit-purchases/${id}/refunds`, {
      amountCents,
      reason,
      idempotencyKey,
    })) as { amountCents: number; status: string; creditNoteNumber: string | null; providerRefundId: string };
    print(
      o,
      r,
      () =>
        `refunded ${euros(r.amountCents)} EUR (${r.status}): credit note ${r.creditNoteNumber ?? '(none: receipt)'}, Stripe ${r.providerRefundId}`,
    );
    return EXIT.OK;
  },

  async 'manual-payments:list'(o) {
    const rows = (await call(o, 'GET', '/ops/manual-payments')) as Record<string, unknown>[];
    print(o, rows, () =>
      table(
        rows.map((r) => ({ ...r, amount: euros(r.totalInclVatCents) })),
        [
          'purchaseId',
          'baseId',
          'holderName',
          'paymentMethod',
          'edition',
          'connections',
          'period',
          'amount',
          'deadlineOn',
        ],
      ),
    );
    return EXIT.OK;
  },

  async 'manual-payments:confirm'(o, [purchaseId]) {
    const id = need(purchaseId, 'manual-payments:confirm needs the purchase id');
    const reference = need(
      o.values.reference,
      'manual-payments:confirm needs --reference (cheque number or transfer reference)',
    );
    const reason = typeof o.values.reason === 'string' ? o.values.reason : undefined;
    const r = (await call(o, 'POST', `/ops/manual-payments/${id}/confirm`, { reference, reason })) as Record<
      string,
      string
    >;
    print(o, r, () => `base ${r.baseId}: payment confirmed, licence ${r.licenceStatus}`);
    return EXIT.OK;
  },

  async 'manual-payments:cancel'(o, [purchaseId]) {
    const id = need(purchaseId, 'manual-payments:cancel needs the purchase id');
    const reason = need(
      o.values.reason,
      'manual-payments:cancel needs --reason (kept in the audit log, emailed)',
    );
    const r = (await call(o, 'POST', `/ops/manual-payments/${id}/cancel`, { reason })) as Record<
      string,
      string
    >;
    print(o, r, () => `base ${r.baseId}: purchase ${r.status}`);
    return EXIT.OK;
  },

  async 'renewals-to-pay:list'(o) {
    const rows = (await call(o, 'GET', '/ops/renewals-to-pay')) as Record<string, unknown>[];
    print(o, rows, () =>
      table(
        rows.map((r) => ({ ...r, amount: euros(r.amountCents) })),
        [
          'baseId',
          'licenceId',
          'holderName',
          'paymentMethod',
          'amount',
          'dueOn',
          'remindersSent',
          'origin',
          'issuedAt',
        ],
      ),
    );
    return EXIT.OK;
  },

  async 'renewals-to-pay:confirm'(o, [baseId]) {
    const id = need(baseId, 'renewals-to-pay:confirm needs the base id');
    const reference = need(
      o.values.reference,
      'renewals-to-pay:confirm needs --reference (cheque number or transfer reference)',
    );
    const reason = typeof o.values.reason === 'string' ? o.values.reason : undefined;
    const r = (await call(o, 'POST', `/ops/bases/${id}/renewal-payment`, { reference, reason })) as Record<
      string,
      string
    >;
    print(o, r, () => `base ${r.baseId}: renewal paid, licence ${r.status} until ${r.paidUntil}`);
    return EXIT.OK;
  },

  async 'free-licences:list'(o) {
    const rows = (await call(o, 'GET', '/ops/free-licences')) as Record<string, unknown>[];
    print(o, rows, () =>
      table(rows, [
        'purchaseId',
        'baseId',
        'holderName',
        'freeCategory',
        'edition',
        'connections',
        'freeJustification',
        'createdAt',
      ]),
    );
    return EXIT.OK;
  },

  async 'free-licences:approve'(o, [purchaseId]) {
    const id = need(purchaseId, 'free-licences:approve needs the purchase id');
    const reason = typeof o.values.reason === 'string' ? o.values.reason : undefined;
    const r = (await call(o, 'POST', `/ops/free-licences/${id}/approve`, { reason })) as Record<
      string,
      string
    >;
    print(o, r, () => `base ${r.baseId}: free licence approved, licence ${r.licenceStatus}`);
    return EXIT.OK;
  },

  async 'free-licences:reject'(o, [purchaseId]) {
    const id = need(purchaseId, 'free-licences:reject needs the purchase id');
    const reason = need(o.values.reason, 'free-licences:reject needs --reason (emailed to the requester)');
    const r = (await call(o, 'POST', `/ops/free-licences/${id}/reject`, { reason })) as Record<
      string,
      string
    >;
    print(o, r, () => `base ${r.baseId}: free licence request ${r.status}`);
    return EXIT.OK;
  },

  async 'disputes:list'(o) {
    const query = new URLSearchParams();
    if (o.values.outcome) query.set('outcome', String(o.values.outcome).toUpperCase());
    if (o.values.base) query.set('baseId', String(o.values.base));
    const rows = (await call(o, 'GET', `/ops/disputes?${query.toString()}`)) as Record<string, unknown>[];
    print(o, rows, () =>
      table(
        rows.map((r) => ({ ...r, amount: euros(r.amountCents) })),
        ['id', 'kind', 'baseId', 'accountId', 'amount', 'reason', 'stripeStatus', 'outcome', 'evidenceDueBy'],
      ),
    );
    return EXIT.OK;
  },

  async 'disputes:show'(o, [disputeId]) {
    const id = need(disputeId, 'disputes:show needs the dispute id');
    const d = (await call(o, 'GET', `/ops/disputes/${id}`)) as Record<string, unknown> & {
      reversal: Record<string, unknown> | null;
    };
    print(o, d, () =>
      [
        `${d.kind as string} ${d.stripeId as string}: ${d.outcome as string} (${d.stripeStatus as string}), ${euros(d.amountCents)} ${d.currency as string}`,
        `base ${(d.baseId as string) ?? '-'}, account ${(d.accountId as number) ?? '-'}, payment ${(d.paymentId as string) ?? '-'}`,
        `evidence due by ${(d.evidenceDueBy as string) ?? '-'}`,
        d.reversal
          ? `reversed ${euros(d.reversal.amountCents)} on ${d.reversal.reversedAt as string}; credit note ${(d.reversal.creditNoteNumber as string) ?? '-'}; licence ${(d.reversal.licenceAction as string) ?? '-'}; credit debited ${(d.reversal.creditDebited as number) ?? '-'}`
          : 'not reversed',
      ].join('\n'),
    );
    return EXIT.OK;
  },

  async 'disputes:acknowledge'(o, [disputeId]) {
    const id = need(disputeId, 'disputes:acknowledge needs the dispute id');
    const reason = need(o.values.reason, 'disputes:acknowledge needs --reason (kept in the audit log)');
    const d = (await call(o, 'POST', `/ops/disputes/${id}/acknowledge`, { reason })) as Record<
      string,
      string
    >;
    print(o, d, () => `${d.stripeId}: ${d.outcome}`);
    return EXIT.OK;
  },

  async 'workflows:stuck'(o) {
    const query = new URLSearchParams();
    if (o.values['older-than'] !== undefined) query.set('olderThanHours', String(o.values['older-than']));
    if (o.values['waiting-on']) query.set('waitingOn', String(o.values['waiting-on']).toUpperCase());
    const rows = (await call(o, 'GET', `/ops/workflows/stuck?${query.toString()}`)) as Record<
      string,
      unknown
    >[];
    print(o, rows, () =>
      table(rows, ['workflowId', 'type', 'waitingOn', 'waitingSince', 'waitingHours', 'link']),
    );
    return EXIT.OK;
  },
};

export const isApiCommand = (command: string): boolean => Object.hasOwn(commands, command);

/** Runs one API command; the exit code to use. */
export async function runApiCommand(command: string, args: string[], o: ApiOptions): Promise<number> {
  try {
    return await commands[command]!(o, args);
  } catch (error) {
    if (error instanceof UsageError) {
      o.err(error.message);
      return EXIT.USAGE;
    }
    if (error instanceof ApiError) {
      if (o.json)
        o.out(JSON.stringify({ error: { status: error.status, code: error.code, message: error.message } }));
      o.err(`${error.code}: ${error.message}`);
      return EXIT.FAILED;
    }
    throw error;
  }
}
