/**
 * `npm run bench:profile`: a V8 CPU profile of the API (`node --cpu-prof main.ts --role api`, logging at
 * info as in production) under the two hot read/write paths at a fixed rate — session opens and licence
 * checks, half each — and its top frames, written to docs/benchmarks.md.
 *
 * Settings: BENCH_RATE (total requests/s, 600), BENCH_SECONDS (20), BENCH_BASES (300).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import { fromAutocannon, openLoop } from './open-loop';
import { Pool } from 'pg';
import {
  codes,
  busiestProfile,
  log,
  loadNow,
  machineLine,
  num,
  registerBases,
  startService,
  summariseCpuProfile,
  waitForQuietMachine,
  writeSection,
} from './common';

const settings = {
  rate: num('BENCH_RATE', 600),
  seconds: num('BENCH_SECONDS', 20),
  bases: num('BENCH_BASES', 300),
};

async function main() {
  const quiet = await waitForQuietMachine();
  const loadBefore = loadNow();
  const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
  const service = await startService({ role: 'api', cpuProfDir: profDir });
  const pool = new Pool({ connectionString: service.databaseUrl, max: 4 });
  let phase;
  try {
    const bases = await registerBases(
      service.apiUrl,
      settings.bases,
      `5${String(Date.now() % 1e6).padStart(6, '0')}`,
    );
    await pool.query(
      `INSERT INTO "Licence" (id, "baseId", version, edition, mode, connections, period, status, "holderName", "updatedAt")
       SELECT gen_random_uuid(), b, 'A1', 'ENTERPRISE', 'LOCAL', 1000, 'ANNUAL', 'ACTIVE', 'Bench', now()
       FROM unnest($1::text[]) AS b`,
      [bases.map((b) => b.baseId)],
    );
    let n = 0;
    const requests: autocannon.Request[] = [
      {
        setupRequest: (req) => {
          const base = bases[Math.floor(Math.random() * bases.length)]!;
          n += 1;
          return n % 2
            ? {
                ...req,
                method: 'GET',
                path: `/bases/${base.baseId}/licence`,
                headers: { authorization: `Bearer ${base.apiKey}` },
              }
            : {
                ...req,
                method: 'POST',
                path: `/bases/${base.baseId}/sessions`,
                headers: { authorization: `Bearer ${base.apiKey}`, 'content-type': 'application/json' },
                body: JSON.stringify({
                  userCode: `U${n % 997}`,
                  userName: `Utilisateur ${n}`,
                  ip: '192.168.1.148',
                  computerName: `POSTE-${n % 100}`,
                }),
              };
        },
      },
    ];
    log(`profiling at ${settings.rate}/s for ${settings.seconds} s`);
    phase = await openLoop({
      url: service.apiUrl,
      rate: settings.rate,
      seconds: settings.seconds,
      sockets: 100,
      next: fromAutocannon(requests),
    });
  } finally {
    await pool.end();
    await service.stop();
  }
  const file = busiestProfile(profDir);
  if (!file) throw new Error(`no profile written in ${profDir}`);
  const summary = summariseCpuProfile(file, 15);
  writeSection(
    'profile',
    [
      `_Written by \`npm run bench:profile\` on ${new Date().toISOString()}._`,
      '',
      machineLine(),
      `Load average before: ${loadBefore}${quiet.quiet ? '' : ' (busy: other work shared the CPUs)'}; after: ${loadNow()}.`,
      `Service: ${service.description}, under \`node --cpu-prof\`. Load: ${settings.rate} requests/s for ${settings.seconds} s, half \`GET /bases/{id}/licence\`, half \`POST /bases/{id}/sessions\` on ${settings.bases} bases: ${phase.requestsPerSecond} requests/s served, p50 ${phase.p50} ms, p99 ${phase.p99} ms (${codes(phase.statusCodes)}). The whole process's life is profiled (start-up included, a few % of the samples).`,
      '',
      `CPU busy in the process: ${summary.busyMs} ms of the run; shares below are of the busy samples (idle left out).`,
      '',
      'Self time by package:',
      '',
      '| where | % of samples |',
      '|---|---:|',
      ...summary.packages.map((p) => `| ${p.name} | ${p.percent} |`),
      '',
      'Inclusive time by package (samples with the package anywhere on the stack):',
      '',
      '| package | % of samples |',
      '|---|---:|',
      ...summary.inclusive.map((p) => `| ${p.name} | ${p.percent} |`),
      '',
      'Top functions by self time:',
      '',
      '| function (where:line) | % of samples |',
      '|---|---:|',
      ...summary.functions.map((f) => `| \`${f.name}\` | ${f.percent} |`),
    ].join('\n'),
  );
  log(`profile kept in ${file} (open it in Chrome DevTools)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
