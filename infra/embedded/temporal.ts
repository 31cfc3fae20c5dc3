/**
 * Temporal servers run by the project: the CLI dev server (development default and integration tests)
 * and the time-skipping test server (workflow tests with day-long timers). Both go through
 * @temporalio/testing's ephemeral-server support, given a local binary when one is found and the
 * SDK's own download otherwise.
 */
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { locateTemporalCli, locateTimeSkippingServer } from './binaries';

export interface DevServerOptions {
  port: number;
  /** SQLite file to persist to; in memory when absent */
  dbFilename?: string;
  uiPort?: number;
  namespace?: string;
  log?: (message: string) => void;
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
      // the project's custom search attributes (ops: what is waiting too long on a human or a payment)
      searchAttributes: PROJECT_SEARCH_ATTRIBUTES,
    },
  });
  return {
    address: env.address,
    uiUrl: options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined,
    env,
    stop: () => env.teardown(),
  };
}

export async function startTimeSkippingServer(
  log: (message: string) => void = () => {},
): Promise<TestWorkflowEnvironment> {
  const binary = locateTimeSkippingServer(log);
  const env = await TestWorkflowEnvironment.createTimeSkipping(
    binary ? { server: { executable: { type: 'existing-path', path: binary } } } : {},
  );
  // the test server takes no start-up flag for them: the project's search attributes are added here
  const indexed = temporal.api.enums.v1.IndexedValueType;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      PROJECT_SEARCH_ATTRIBUTES.map((key) => [
        key.name,
        key.type === 'DATETIME' ? indexed.INDEXED_VALUE_TYPE_DATETIME : indexed.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return env;
}
