import fs from 'node:fs';
import type { TestInfra } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as { __TEST_INFRA__?: TestInfra }).__TEST_INFRA__;
  if (!infra) return;
  await infra.stripeMock.stop();
  await infra.temporal.stop();
  await infra.pg.stop();
  fs.rmSync(infra.dataDir, { recursive: true, force: true });
}
