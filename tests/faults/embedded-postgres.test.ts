/**
 * The embedded PostgreSQL of `npm start` (docs/faults.md): killed, it is restarted by its supervisor and
 * the same data answers again; and stopping it after a kill completes (it used to wait forever for an
 * exit event already past, so SIGTERM never finished). Real processes, killed with SIGKILL.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from '@jest/globals';

it('a killed embedded PostgreSQL is restarted with its data; stop() after a kill completes', () => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '../helpers/embedded-postgres-kill.ts')],
    { cwd: path.join(__dirname, '../..'), encoding: 'utf8', timeout: 90_000 },
  );
  const result = JSON.parse(out.trim().split('\n').pop()!) as {
    rows: unknown;
    firstPid: number;
    restartedPid: number;
    stopAfterKill: string;
  };
  expect(result.rows).toEqual([{ v: 42 }]);
  expect(result.restartedPid).not.toBe(result.firstPid);
  expect(result.stopAfterKill).toBe('stopped');
});
