/**
 * docker-compose.yml, checked without a Docker engine (what `docker compose config` would catch, and the
 * topology docs/cluster.md promises): every reference resolves, the real Temporal server runs on PostgreSQL
 * after a one-shot schema set-up, the migrations run once before any API or worker, two API processes behind
 * one front, two workers, the UI, our search attributes registered, and every setting given to the service is
 * one infra/config.ts knows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { LOCALSTRIPE_VERSION, TEMPORAL_SERVER_VERSION } from '../../infra/embedded/binaries';
import { WEBHOOK_EVENTS } from '../../infra/embedded/localstripe';
import { configSchema } from '../../infra/config';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';

const root = path.resolve(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  restart?: string;
  healthcheck?: unknown;
}

function load(): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  const doc = parseDocument(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
  expect(doc.errors).toEqual([]);
  return doc.toJS({ maxAliasCount: 100 }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
}

const compose = load();
const services = compose.services;
const command = (s: Service) => [s.entrypoint ?? [], s.command ?? []].flat().join(' ');
const roleOf = (s: Service) => /main\.ts --role (api|worker)/.exec(command(s))?.[1];
const apis = Object.entries(services).filter(([, s]) => roleOf(s) === 'api');
const workers = Object.entries(services).filter(([, s]) => roleOf(s) === 'worker');

/** every service a service waits for, directly or not */
function upstreamOf(name: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(services[name]?.depends_on ?? {})) {
    if (seen.has(dep)) continue;
    seen.add(dep);
    upstreamOf(dep, seen);
  }
  return seen;
}

it('every dependency and named volume resolves, with no cycle', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const dep of Object.keys(service.depends_on ?? {})) expect(Object.keys(services)).toContain(dep);
    expect(upstreamOf(name).has(name)).toBe(false);
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.')) expect(fs.existsSync(path.join(root, source))).toBe(true);
      else expect(Object.keys(compose.volumes)).toContain(source);
    }
  }
});

it('the real Temporal server on PostgreSQL, after a one-shot schema set-up; no development server', () => {
  const all = Object.values(services).map(command).join('\n');
  expect(all).not.toMatch(/start-dev/);
  const temporal = services.temporal!;
  expect(temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION.slice(1)}`);
  expect(temporal.environment).toMatchObject({
    DB: 'postgres12',
    POSTGRES_SEEDS: 'postgres',
    DBNAME: 'temporal',
    VISIBILITY_DBNAME: 'temporal_visibility',
  });
  const schema = services['temporal-schema']!;
  expect(schema.restart).toBe('no');
  expect(command(schema)).toMatch(/setup-schema/);
  for (const dir of ['temporal', 'visibility'])
    expect(command(schema)).toContain(`/schema/postgresql/v12/${dir}/versioned`);
  expect(temporal.depends_on?.['temporal-schema']).toEqual({ condition: 'service_completed_successfully' });
  expect(upstreamOf('temporal-schema').has('postgres')).toBe(true);
});

it("the namespace and the project's search attributes are registered, and the UI runs", () => {
  const namespace = command(services['temporal-namespace']!);
  for (const key of PROJECT_SEARCH_ATTRIBUTES)
    expect(namespace).toMatch(
      new RegExp(`--name ${key.name} --type ${key.type === 'DATETIME' ? 'Datetime' : 'Keyword'}`),
    );
  expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
  expect(services['temporal-ui']!.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
});

it('two API processes behind one front and two workers, all after the migrations, which run once', () => {
  expect(apis.map(([name]) => name)).toHaveLength(2);
  expect(workers.map(([name]) => name)).toHaveLength(2);
  const migrations = Object.entries(services).filter(([, s]) => /prisma migrate deploy/.test(command(s)));
  expect(migrations.map(([name]) => name)).toEqual(['migrate']);
  expect(services.migrate!.restart).toBe('no');
  for (const [name] of [...apis, ...workers]) {
    expect(services[name]!.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(upstreamOf(name).has('temporal-namespace')).toBe(true);
    expect(services[name]!.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services[name]!.environment?.MIGRATE_ON_START).toBe('off');
  }
  // the front's upstreams are exactly the API services
  const front = services.front!;
  const conf = (front.volumes ?? []).map((v) => v.split(':')[0]!).find((v) => v.endsWith('.conf'))!;
  const upstreams = [...fs.readFileSync(path.join(root, conf), 'utf8').matchAll(/server (\S+):3000/g)].map(
    (m) => m[1],
  );
  expect(upstreams.sort()).toEqual(apis.map(([name]) => name).sort());
  expect(front.ports).toEqual(['3000:3000']);
  expect(Object.keys(front.depends_on ?? {}).sort()).toEqual(apis.map(([name]) => name).sort());
});

it('every setting given to the service processes is one the configuration knows', () => {
  // read by main.ts before the configuration (embedded defaults) or by Node itself
  const outsideConfig = ['VAR_DIR', 'NODE_OPTIONS'];
  const known = new Set([...Object.keys(configSchema.shape), ...outsideConfig]);
  for (const [, service] of [...apis, ...workers])
    for (const key of Object.keys(service.environment ?? {}))
      expect(known.has(key) ? key : `unknown ${key}`).toBe(key);
  expect(fs.readFileSync(path.join(root, '.env.example'), 'utf8')).toMatch(/WORKER_BUILD_ID/);
});

it('a local Stripe that takes test payments: localstripe as npm start runs it, its webhooks to the front', () => {
  const localstripe = services.localstripe!;
  const build = localstripe.build as { context: string; dockerfile: string };
  const dockerfile = fs.readFileSync(path.join(root, build.context, build.dockerfile), 'utf8');
  // the release binaries.ts installs, started by the same patched launcher
  expect(dockerfile).toContain(`localstripe==${LOCALSTRIPE_VERSION}`);
  expect(dockerfile).toContain('COPY infra/embedded/localstripe-server.py');
  expect(dockerfile).toMatch(/"--host", "0\.0\.0\.0", "--port", "8420"/);
  expect(localstripe.ports).toEqual(['8420:8420']);
  const hooks = services['localstripe-webhooks']!;
  const request = command(hooks);
  expect(request).toContain('http://localstripe:8420/_config/webhooks/licensing');
  const body = (hooks.command as string[]).find((arg) => arg.startsWith('{'))!;
  const registration = JSON.parse(body.replace(/\$\{STRIPE_WEBHOOK_SECRET[^}]*\}/, 'whsec_x')) as {
    url: string;
    events: string[];
  };
  expect(registration.url).toBe('http://front:3000/webhooks/stripe');
  expect(registration.events).toEqual([...WEBHOOK_EVENTS]);
  for (const [name, service] of [...apis, ...workers]) {
    expect(service.environment?.STRIPE_API_BASE).toBe('http://localstripe:8420');
    // one secret signs at localstripe and is checked by the route
    expect(service.environment?.STRIPE_WEBHOOK_SECRET).toMatch(/^\$\{STRIPE_WEBHOOK_SECRET:\?/);
    if (name.startsWith('api')) expect(upstreamOf(name).has('localstripe-webhooks')).toBe(true);
  }
  expect(Object.keys(services)).not.toContain('stripe-mock');
});
