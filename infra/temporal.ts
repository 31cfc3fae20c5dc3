import { Client, Connection } from '@temporalio/client';

export interface TemporalClients {
  connection: Connection;
  client: Client;
  taskQueue: string;
}

export async function connectTemporal(
  address: string,
  namespace: string,
  taskQueue: string,
): Promise<TemporalClients> {
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace }), taskQueue };
}
