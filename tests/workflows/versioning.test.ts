/**
 * The versioning guard itself (docs/workflow-versioning.md): a history recorded by one version of a workflow,
 * replayed against the next. A new command added carelessly fails replay; the same change under `patched()`
 * replays, and a history recorded with the patch fails once the `patched()` call is dropped too early.
 * The example workflows live in tests/workflows/versioning/.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { startTimeSkippingServer } from '../../infra/embedded/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { installTestRuntime } from '../helpers/harness';
import type { VersioningActivities } from './versioning/activities';

type History = temporal.api.history.v1.IHistory;

let env: TestWorkflowEnvironment;
const bundles = new Map<string, WorkflowBundleWithSourceMap>();
const notes: string[] = [];
const activities: VersioningActivities = {
  async note(what) {
    notes.push(what);
  },
};

async function bundleOf(version: 'v1' | 'v2-unguarded' | 'v2-patched'): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(version);
  if (!bundle) {
    bundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'versioning', `${version}.ts`),
      logger: new DefaultLogger('WARN'),
    });
    bundles.set(version, bundle);
  }
  return bundle;
}

/** Runs the workflow to its end with `version` (the day's timer skipped) and returns its history. */
async function recordWith(version: 'v1' | 'v2-patched'): Promise<History> {
  const taskQueue = `versioning-${version}-${Date.now()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleOf(version),
    activities,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('versionedWorkflow', {
      taskQueue,
      workflowId: `versioned-${version}-${Date.now()}`,
    });
    await handle.result();
    return handle.fetchHistory();
  });
}

/** The replay's error message, or 'replayed' when the history replays with `version`. */
async function replayWith(version: 'v1' | 'v2-unguarded' | 'v2-patched', history: History): Promise<string> {
  try {
    await Worker.runReplayHistory({ workflowBundle: await bundleOf(version) }, history);
    return 'replayed';
  } catch (error) {
    // checked by name: Jest's module realms break instanceof on Temporal errors
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

beforeAll(async () => {
  installTestRuntime();
  env = await startTimeSkippingServer({ searchAttributes: PROJECT_SEARCH_ATTRIBUTES });
});
afterAll(async () => {
  await env?.teardown();
});

it('an unguarded new command fails replay of a history recorded before it; under patched() it replays', async () => {
  const v1 = await recordWith('v1');
  expect(await replayWith('v1', v1)).toBe('replayed');
  expect(await replayWith('v2-unguarded', v1)).toMatch(/^DeterminismViolationError: .*Nondeterminism/);
  expect(await replayWith('v2-patched', v1)).toBe('replayed');
});

it('a history recorded with the patch fails replay once the patched() call is removed too early', async () => {
  const patchedRun = await recordWith('v2-patched');
  expect(notes).toContain('reminder');
  expect(await replayWith('v2-patched', patchedRun)).toBe('replayed');
  expect(await replayWith('v2-unguarded', patchedRun)).toMatch(/^DeterminismViolationError: .*patch marker/);
});
