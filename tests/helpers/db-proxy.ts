/**
 * A TCP proxy in front of PostgreSQL that a test can cut: `cut()` drops every open connection and refuses new
 * ones (as a database restart or a network partition would), `restore()` lets connections through again.
 * Point a process's DATABASE_URL at `urlFor(databaseUrl)`.
 */
import net from 'node:net';

export interface DbProxy {
  port: number;
  /** the same URL through the proxy */
  urlFor(databaseUrl: string): string;
  cut(): void;
  restore(): void;
  /** connections refused or dropped while cut */
  refused(): number;
  stop(): Promise<void>;
}

export async function startDbProxy(databaseUrl: string): Promise<DbProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let down = false;
  let refused = 0;
  const server = net.createServer((client) => {
    if (down) {
      refused += 1;
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 5432) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      down = true;
      refused += sockets.size / 2;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    refused: () => refused,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
