/**
 * Temporal servers run by the project: the CLI dev server (development default and integration tests)
 * and the time-skipping test server (workflow tests with day-long timers). Both go through
 * @temporalio/testing's ephemeral-server support, given a local binary when one is found and the
 * SDK's own download otherwise. The caller names the custom search attributes to register (the project's
 * are data in domain/search-attributes.ts; infra imports no other layer).
 */
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SearchAttributeType } from '@temporalio/common';
import { locateTemporalCli, locateTimeSkippingServer } from './binaries';

/** a custom search attribute to register: its name and indexed type */
export interface SearchAttributeSpec {
  name: string;
  type: SearchAttributeType;
}

export interface DevServerOptions {
  port: number;
  /** SQLite file to persist to; in memory when absent */
  dbFilename?: string;
  uiPort?: number;
  namespace?: string;
  log?: (message: string) => void;
  /** custom search attributes the workflows set */
  searchAttributes: readonly SearchAttributeSpec[];
}

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<RunningTemporal> {
  const log = options.log ?? (() => {});
  const binary = locateTemporalCli(log);
  if (!binary) log('no local Temporal CLI found; using the Temporal SDK download (needs internet)');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: binary ? { type: 'existing-path', path: binary } : { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      namespace: options.namespace ?? 'default',
      dbFilename: options.dbFilename,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      log: { format: 'json', level: 'error' },
      searchAttributes: [...options.searchAttributes],
    },
  });
  return {
    address: env.address,
    uiUrl: options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined,
    env,
    stop: () => env.teardown(),
  };
}

/**
 * The SDK gives the test server (a JVM) 5 seconds to listen; on a loaded machine its start can take longer.
 * That one failure is retried (a fresh port each time); any other is thrown.
 */
async function startWithRetries<T>(start: () => Promise<T>, log: (message: string) => void): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      const slow = error instanceof Error && /did not start within/.test(error.message);
      if (!slow || attempt >= 4) throw error;
      log(`the time-skipping server was slow to start (attempt ${attempt}): trying again`);
    }
  }
}

export async function startTimeSkippingServer(options: {
  searchAttributes: readonly SearchAttributeSpec[];
  log?: (message: string) => void;
}): Promise<TestWorkflowEnvironment> {
  const log = options.log ?? (() => {});
  const binary = locateTimeSkippingServer(log);
  const env = await startWithRetries(
    () =>
      TestWorkflowEnvironment.createTimeSkipping(
        binary ? { server: { executable: { type: 'existing-path', path: binary } } } : {},
      ),
    log,
  );
  // the test server takes no start-up flag for them: the project's search attributes are added here
  const indexed = temporal.api.enums.v1.IndexedValueType;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      options.searchAttributes.map((key) => [
        key.name,
        key.type === 'DATETIME' ? indexed.INDEXED_VALUE_TYPE_DATETIME : indexed.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}
