/**
 * Bad input, the whole API: schemathesis (property-based, from /openapi.json) calls every operation with
 * generated valid and invalid requests, authenticated, and fails on any 5xx or any answer whose status,
 * content type or body the document does not declare. Installation routes run with an installation key of
 * a base with a confirmed account, ops routes with an admin ops token. See docs/bad-input.md.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { systemActor } from '../../services/actor';
import { createOpsToken } from '../../services/ops/ops-tokens';
import { confirmedAccount } from '../helpers/api';
import { createHarness, type Harness } from '../helpers/harness';

type Operation = { security?: Record<string, string[]>[] };
type Document = { paths: Record<string, Record<string, Operation>> };

/** The operations a principal may call: `apiKey` ones for a key (and open ones), `opsToken`-only ones for ops. */
function subset(document: Document, who: 'apiKey' | 'opsToken'): Document {
  const paths: Document['paths'] = {};
  for (const [p, operations] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      const forKey = schemes.length === 0 || schemes.includes('apiKey');
      if ((who === 'apiKey') === forKey) (paths[p] ??= {})[method] = op;
    }
  }
  return { ...document, paths };
}

function runSchemathesis(schema: string, url: string, token: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/schemathesis.sh', schema, url, token], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, SCHEMATHESIS_EXAMPLES: process.env.SCHEMATHESIS_EXAMPLES ?? '15' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

describe('schemathesis against /openapi.json', () => {
  let h: Harness;
  let server: Server;
  let url: string;
  let dir: string;
  let document: Document;

  beforeAll(async () => {
    h = await createHarness();
    server = h.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schemathesis-'));
    document = (await request(h.app).get('/openapi.json')).body as Document;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('installation routes: no 5xx, every answer as declared', async () => {
    const { apiKey } = await confirmedAccount(h);
    const file = path.join(dir, 'installation.json');
    const doc = subset(document, 'apiKey');
    fs.writeFileSync(file, JSON.stringify(doc));
    const { code, output } = await runSchemathesis(file, url, apiKey);
    if (code !== 0) console.log(output);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
    expect(output).toMatch(/passed/);
    expect(code).toBe(0);
  }, 900_000);

  it('ops routes: no 5xx, every answer as declared', async () => {
    const { token } = await createOpsToken(h.prisma, systemActor('test'), { name: 'fuzz', role: 'ADMIN' });
    const file = path.join(dir, 'ops.json');
    const doc = subset(document, 'opsToken');
    fs.writeFileSync(file, JSON.stringify(doc));
    const { code, output } = await runSchemathesis(file, url, token);
    if (code !== 0) console.log(output);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(5);
    expect(output).toMatch(/passed/);
    expect(code).toBe(0);
  }, 900_000);
});
