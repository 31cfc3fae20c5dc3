/**
 * `npm run bench:licence`: the licence check, written to its section of docs/benchmarks.md.
 *
 * - `GET /bases/{id}/licence` on the service (`main.ts --role api`, durable PostgreSQL) over BENCH_BASES
 *   bases with a paid licence: at a fixed rate (autocannon `overallRate`, BENCH_RATE, 1,000/s) — the
 *   target is latency at that rate — then a closed loop of BENCH_CONNECTIONS connections (the ceiling);
 * - the offline verifier (`verifier/licence-verifier.ts`, what an ERP embeds) on a real signed file of
 *   the service, in a loop in this process: calls per second and per-call p50/p99.
 */
import autocannon from 'autocannon';
import { fromAutocannon, openLoop } from './open-loop';
import { Pool } from 'pg';
import { verifyLicenceFile } from '../verifier/licence-verifier';
import {
  codes,
  fixedRate,
  log,
  loadNow,
  machineLine,
  num,
  registerBases,
  startService,
  waitForQuietMachine,
  writeSection,
} from './common';
import { Histogram } from './histogram';

const settings = {
  bases: num('BENCH_BASES', 200),
  rate: num('BENCH_RATE', 1000),
  seconds: num('BENCH_SECONDS', 15),
  connections: num('BENCH_CONNECTIONS', 20),
  verifies: num('BENCH_VERIFIES', 20_000),
};

async function main() {
  const quiet = await waitForQuietMachine();
  const loadBefore = loadNow();
  const service = await startService({ role: 'api' });
  const pool = new Pool({ connectionString: service.databaseUrl, max: 4 });
  try {
    log(`registering ${settings.bases} bases`);
    const bases = await registerBases(
      service.apiUrl,
      settings.bases,
      `6${String(Date.now() % 1e6).padStart(6, '0')}`,
    );
    await pool.query(
      `INSERT INTO "Licence" (id, "baseId", version, edition, mode, connections, period, status, "holderName",
         "anchorDate", "periodStart", "periodEnd", "autoRenew", "updatedAt")
       SELECT gen_random_uuid(), b, 'A1', 'ENTERPRISE', 'LOCAL', 5, 'ANNUAL', 'ACTIVE', 'Bench',
         to_char(now(), 'YYYY-MM-DD'), to_char(now(), 'YYYY-MM-DD'), to_char(now() + interval '1 year', 'YYYY-MM-DD'), true, now()
       FROM unnest($1::text[]) AS b`,
      [bases.map((b) => b.baseId)],
    );
    const requests: autocannon.Request[] = [
      {
        method: 'GET',
        setupRequest: (req) => {
          const base = bases[Math.floor(Math.random() * bases.length)]!;
          return {
            ...req,
            path: `/bases/${base.baseId}/licence`,
            headers: { authorization: `Bearer ${base.apiKey}` },
          };
        },
      },
    ];
    // warm-up (JIT, pool connections)
    await autocannon({ url: service.apiUrl, connections: 10, duration: 3, requests });

    log(`fixed rate: ${settings.rate}/s for ${settings.seconds} s`);
    const atRate = await openLoop({
      url: service.apiUrl,
      rate: settings.rate,
      seconds: settings.seconds,
      sockets: 100,
      next: fromAutocannon(requests),
    });
    log(`closed loop: ${settings.connections} connections for ${settings.seconds} s`);
    const closed = await fixedRate(autocannon, {
      url: service.apiUrl,
      connections: settings.connections,
      duration: settings.seconds,
      requests,
    });

    log('offline verifier');
    const base = bases[0]!;
    const fileText = await (
      await fetch(`${service.apiUrl}/bases/${base.baseId}/licence/file`, {
        headers: { authorization: `Bearer ${base.apiKey}` },
      })
    ).text();
    const { keys } = (await (await fetch(`${service.apiUrl}/licences/public-keys`)).json()) as {
      keys: Record<string, string>;
    };
    const today = new Date().toISOString().slice(0, 10);
    const first = verifyLicenceFile(fileText, keys, today);
    if (!first.valid) throw new Error(`the service's licence file does not verify: ${JSON.stringify(first)}`);
    for (let i = 0; i < 1000; i += 1) verifyLicenceFile(fileText, keys, today); // warm-up
    const histogram = new Histogram();
    const started = process.hrtime.bigint();
    for (let i = 0; i < settings.verifies; i += 1) {
      const t0 = process.hrtime.bigint();
      const verdict = verifyLicenceFile(fileText, keys, today);
      histogram.record(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!verdict.valid) throw new Error('a verification failed');
    }
    const verifySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const verifier = {
      perSecond: Math.round(settings.verifies / verifySeconds),
      p50: Math.round(histogram.percentile(50) * 1000) / 1000,
      p99: Math.round(histogram.percentile(99) * 1000) / 1000,
    };

    const met = atRate.p99 <= 5 && atRate.requestsPerSecond >= settings.rate * 0.98 && atRate.errors === 0;
    writeSection(
      'licence',
      [
        `_Written by \`npm run bench:licence\` on ${new Date().toISOString()}._`,
        '',
        machineLine(),
        `Load average (1/5/15 min) before: ${loadBefore}${quiet.quiet ? '' : ' (busy: other work shared the CPUs)'}; after: ${loadNow()}.`,
        `Service: ${service.description}; the load generator runs on the same 2 CPUs. ${settings.bases} bases, each with a paid licence; each request picks one at random.`,
        '',
        '| licence check | requests/s | p50 ms | p99 ms | max ms | answers | errors |',
        '|---|---:|---:|---:|---:|---|---:|',
        `| \`GET /bases/{id}/licence\`, fixed rate ${settings.rate}/s (open loop, up to 100 sockets, ${settings.seconds} s) | ${atRate.requestsPerSecond} | ${atRate.p50} | ${atRate.p99} | ${atRate.max} | ${codes(atRate.statusCodes)} | ${atRate.errors} |`,
        `| \`GET /bases/{id}/licence\`, closed loop (${settings.connections} connections, ${settings.seconds} s): the ceiling | ${closed.requestsPerSecond} | ${closed.p50} | ${closed.p99} | ${closed.max} | ${codes(closed.statusCodes)} | ${closed.errors} |`,
        `| offline verifier (\`verifyLicenceFile\`, one thread, ${settings.verifies} calls) | ${verifier.perSecond} | ${verifier.p50} | ${verifier.p99} | | valid | 0 |`,
        '',
        `Target p99 ≤ 5 ms at ${settings.rate} req/s: **${met ? 'met' : 'not met'}** by the API; the offline verifier needs no network and is far below it.`,
      ].join('\n'),
    );
  } finally {
    await pool.end();
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
