/**
 * Replays every recorded history in tests/histories/ (real runs, `npm run histories:record`) against the
 * current workflow code. A change to a workflow that would break its running executions — a new, removed or
 * reordered activity, timer or child workflow outside a `patched()` branch — fails here with a
 * determinism error, before it can reach a worker with live histories. Until the first release a changed
 * workflow re-records its histories; versioning.test.ts checks the guard itself. See docs/workflow-versioning.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { installTestRuntime, workflowBundle } from '../helpers/harness';

const dir = path.resolve(__dirname, '..', 'histories');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const historyOf = (file: string) =>
  historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
const workflowTypeOf = (file: string) =>
  historyOf(file).events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;

beforeAll(() => installTestRuntime());

it('holds a history of every workflow type the worker registers', async () => {
  const registered = Object.keys(workflows).sort();
  expect([...new Set(files.map(workflowTypeOf))].sort()).toEqual(registered);
});

it('replays every recorded history with the current workflow code', async () => {
  const results: { file: string; error?: string }[] = [];
  const histories = files.map((file) => ({ workflowId: file, history: historyOf(file) }));
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: await workflowBundle() },
    histories,
  )) {
    results.push({ file: result.workflowId, ...(result.error ? { error: String(result.error) } : {}) });
  }
  expect(results).toEqual(files.map((file) => ({ file })));
});
