/**
 * Bad input, the whole API: schemathesis (property-based, from /openapi.json) calls every operation with
 * generated valid and invalid requests (NUL bytes in strings included),
 * authenticated, and fails on any 5xx or any answer whose status, content type or body the document does
 * not declare. Installation routes run with an installation key of
 * a base with a confirmed account, ops routes with an admin ops token, and every operation either may call
 * (open ones, `any` ones) with both. Then what schemathesis can't generate (lone surrogates, charsets,
 * encodings, nesting, size) is sent to every operation with both credentials. See docs/bad-input.md.
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

/** The operations a principal may call: open ones and those whose security names its scheme. */
function subset(document: Document, who: 'apiKey' | 'opsToken'): Document {
  const paths: Document['paths'] = {};
  for (const [p, operations] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      if (schemes.length === 0 || schemes.includes(who)) (paths[p] ??= {})[method] = op;
    }
  }
  return { ...document, paths };
}

const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/**
 * What schemathesis does not generate: lone surrogates, foreign charsets, unknown or corrupt encodings,
 * deep nesting, oversized bodies, NUL bytes in every path parameter. Sent to every operation.
 */
function hostileRequests(
  pathTemplate: string,
): { label: string; path: string; headers: Record<string, string>; body?: Buffer }[] {
  const filled = pathTemplate.replace(/\{[^}]+\}/g, '82520020025896075');
  const nulPath = pathTemplate.includes('{') ? pathTemplate.replace(/\{[^}]+\}/g, '%00') : undefined;
  const json = { 'content-type': 'application/json' };
  const strings = (text: string) =>
    Buffer.from(
      JSON.stringify({ name: text, email: text, machineName: text, baseId: text, reason: text, file: text }),
    );
  return [
    { label: 'NUL in strings', path: filled, headers: json, body: strings('a\u0000b') },
    { label: 'lone surrogate', path: filled, headers: json, body: strings('a\ud800b') },
    {
      label: 'charset latin1',
      path: filled,
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: Buffer.from('{}'),
    },
    {
      label: 'unknown encoding',
      path: filled,
      headers: { ...json, 'content-encoding': 'zstd-x' },
      body: Buffer.from('{}'),
    },
    {
      label: 'corrupt gzip',
      path: filled,
      headers: { ...json, 'content-encoding': 'gzip' },
      body: Buffer.from('not gzip'),
    },
    {
      label: 'corrupt br',
      path: filled,
      headers: { ...json, 'content-encoding': 'br' },
      body: Buffer.from('not br'),
    },
    { label: 'deep nesting', path: filled, headers: json, body: Buffer.from(deep(10_000)) },
    { label: 'too large', path: filled, headers: json, body: Buffer.alloc(1_100_000, 0x20) },
    ...(nulPath ? [{ label: 'NUL in path', path: nulPath, headers: json }] : []),
  ];
}

function runSchemathesis(
  schema: string,
  url: string,
  token: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/schemathesis.sh', schema, url, token], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, SCHEMATHESIS_EXAMPLES: process.env.SCHEMATHESIS_EXAMPLES ?? '8' },
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

  it('NUL bytes, lone surrogates, charsets, encodings, nesting, size: never a 5xx, on every operation, both credentials', async () => {
    const { apiKey } = await confirmedAccount(h);
    const { token } = await createOpsToken(h.prisma, systemActor('test'), { name: 'hostile', role: 'ADMIN' });
    const failures: string[] = [];
    let sent = 0;
    for (const [p, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations)) {
        // the parser's cases come before authentication: once per operation; the text cases with each credential
        const cases = hostileRequests(p).flatMap((r) =>
          r.label.startsWith('NUL') || r.label === 'lone surrogate'
            ? [apiKey, token].map((credential) => ({ ...r, credential }))
            : method === 'get' || method === 'delete'
              ? []
              : [{ ...r, credential: apiKey }],
        );
        for (const r of cases) {
          const agent = request(h.app);
          const call = agent[method as 'post'](r.path).set({
            ...r.headers,
            authorization: `Bearer ${r.credential}`,
          });
          const res = await (r.body ? call.send(r.body) : call);
          sent += 1;
          if (res.status >= 500)
            failures.push(
              `${method.toUpperCase()} ${p} (${r.label}): ${res.status} ${res.text.slice(0, 200)}`,
            );
        }
      }
    }
    expect(sent).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  }, 900_000);

  it('ops routes: no 5xx, every answer as declared', async () => {
    const { token } = await createOpsToken(h.prisma, systemActor('test'), { name: 'fuzz', role: 'ADMIN' });
    const file = path.join(dir, 'ops.json');
    const doc = subset(document, 'opsToken');
    fs.writeFileSync(file, JSON.stringify(doc));
    const { code, output } = await runSchemathesis(file, url, token);
    if (code !== 0) console.log(output);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(40);
    expect(output).toMatch(/passed/);
    expect(code).toBe(0);
  }, 900_000);
});
