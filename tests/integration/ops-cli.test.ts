/** The ops command line, run as a real process against a real database. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { bearer, registerMachine } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const ops = (...args: string[]) =>
  run(path.join(root, 'node_modules', '.bin', 'tsx'), ['cli/ops.ts', ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: h.databaseUrl },
  });

it('issues an admin token that works on the API, lists it by prefix, and revokes it', async () => {
  const created = await ops('token:create', '--name', 'alice', '--role', 'admin');
  const token = /^(ops_\S+)$/m.exec(created.stdout)?.[1];
  expect(token).toBeDefined();
  const machine = await registerMachine(h);
  expect((await request(h.app).get(`/bases/${machine.baseId}`).set(bearer(token!))).status).toBe(200);
  expect((await request(h.app).get('/ops/tokens').set(bearer(token!))).body).toEqual([
    expect.objectContaining({ name: 'alice', role: 'ADMIN' }),
  ]);

  const listed = await ops('token:list');
  expect(listed.stdout).toContain('alice');
  expect(listed.stdout).not.toContain(token!);

  const id = (await h.prisma.opsToken.findFirstOrThrow({ where: { name: 'alice' } })).id;
  await ops('token:revoke', id);
  expect((await request(h.app).get(`/bases/${machine.baseId}`).set(bearer(token!))).status).toBe(401);
});

it('issues and revokes installation keys; bad arguments exit with a clear message', async () => {
  const issued = await ops('key:issue', '--base', '11112222333344445', '--machine', 'SERVEUR');
  const key = /^(lk_\S+)$/m.exec(issued.stdout)?.[1];
  const me = await request(h.app).get('/installations/me').set(bearer(key!));
  expect(me.body).toMatchObject({ baseId: '11112222333344445', machineName: 'SERVEUR' });
  const keyId = (
    await h.prisma.apiKey.findFirstOrThrow({ where: { installation: { baseId: '11112222333344445' } } })
  ).id;
  await ops('key:revoke', keyId);
  expect((await request(h.app).get('/installations/me').set(bearer(key!))).status).toBe(401);

  await expect(ops('key:issue', '--base', '123', '--machine', 'X')).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('17 digits'),
  });
  await expect(ops('token:create', '--name', 'bob', '--role', 'root')).rejects.toMatchObject({ code: 2 });
});
