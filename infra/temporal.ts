import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface TemporalClients {
  connection: Connection;
  client: Client;
  taskQueue: string;
}

export async function connectTemporal(
  address: string,
  namespace: string,
  taskQueue: string,
  /** e.g. the workflow-start counter of infra/metrics.ts */
  interceptors?: ClientInterceptors,
  /** the payload codec shared with the worker (infra/payload-codec.ts) */
  dataConverter?: DataConverter,
): Promise<TemporalClients> {
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace, interceptors, dataConverter }), taskQueue };
}
