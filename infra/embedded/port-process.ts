/**
 * A local peer in a child process that serves one loopback port (stripe-mock, localstripe): refused when
 * the port is already taken (an older peer there would answer and hide a failed start), started, waited for
 * until the port answers or the process exits (its last output in the error), killed with this process,
 * stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { isPortOpen, waitForPort } from './ports';

export interface PortProcess {
  stop(): Promise<void>;
}

export async function startPortProcess(options: {
  /** the peer's name in messages */
  name: string;
  command: string;
  args: string[];
  port: number;
  /** the setting that chooses another port, named when the port is taken */
  portSetting: string;
  startTimeoutMs: number;
}): Promise<PortProcess> {
  if (await isPortOpen(options.port)) {
    throw new Error(`port ${options.port} is already in use (${options.portSetting} chooses another)`);
  }
  const child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${options.name} exited (${signal ?? code}) while starting: ${output.trim()}`)),
    );
    child.once('error', reject);
  });
  exited.catch(() => {}); // after a good start, an exit is stop()'s business
  try {
    await Promise.race([waitForPort(options.port, '127.0.0.1', options.startTimeoutMs), exited]);
  } catch (error) {
    killOnExit();
    process.off('exit', killOnExit);
    throw error;
  }
  return {
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
