import { Client, Connection, type ClientInterceptors } from '@temporalio/client';

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
): Promise<TemporalClients> {
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace, interceptors }), taskQueue };
}
