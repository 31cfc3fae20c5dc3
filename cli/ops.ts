/**
 * Ops command line: `npm run ops -- <command> [options]`. Tokens and keys talk to the database directly
 * (DATABASE_URL, or the embedded development database while `npm start` runs), through the same use-cases
 * as the API; the daily ops work (failed payments, queues, stuck workflows) goes through the HTTP API with
 * an ops token (cli/ops-api.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../infra/embedded/binaries';
import { apiUsage, EXIT, isApiCommand, runApiCommand } from './ops-api';
import { createPrisma } from '../infra/prisma';
import type { Actor } from '../services/actor';
import { createInstallation, revokeApiKey } from '../services/installations/api-keys';
import { createOpsToken, listOpsTokens, revokeOpsToken } from '../services/ops/ops-tokens';
import { promoCodeDefinitionSchema } from '../domain/promo-code';
import {
  createPromoCode,
  deactivatePromoCode,
  listPromoCodes,
} from '../services/promo-codes/manage-promo-codes';

const usage = `usage: npm run ops -- <command>

  token:create --name <name> --role ops|admin   issue an ops token (printed once)
  token:list                                     list ops tokens
  token:revoke <tokenId>                         revoke an ops token
  key:issue --base <baseId> --machine <name>     issue an installation key for a machine of a base
  key:revoke <keyId>                             revoke an installation key
  promo:create --definition '<json>'             create a promo code (the body of POST /ops/promo-codes,
                                                 e.g. '{"code":"PRINTEMPS","kind":"PERCENT","percentBasisPoints":2000,
                                                 "duration":"FIRST_PERIOD","maxRedemptions":100}')
  promo:list                                     promo codes with their redemption counts
  promo:deactivate <code>                        refuse a promo code from now on

DATABASE_URL selects the database; without it, the embedded development database of \`npm start\`
(127.0.0.1:\${EMBEDDED_POSTGRES_PORT:-5433}) is used.

${apiUsage}`;

function loadEnv(): void {
  const envFile = path.join(PROJECT_ROOT, '.env');
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
}

function databaseUrl(): string {
  return (
    process.env.DATABASE_URL ??
    `postgresql://postgres:postgres@127.0.0.1:${process.env.EMBEDDED_POSTGRES_PORT ?? 5433}/licensing`
  );
}

function fail(message: string): never {
  console.error(message);
  process.exit(EXIT.USAGE);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      base: { type: 'string' },
      machine: { type: 'string' },
      help: { type: 'boolean' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      reference: { type: 'string' },
      amount: { type: 'string' },
      key: { type: 'string' },
      kind: { type: 'string' },
      replayable: { type: 'boolean' },
      filter: { type: 'string', multiple: true },
      limit: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'older-than': { type: 'string' },
      'waiting-on': { type: 'string' },
      outcome: { type: 'string' },
      definition: { type: 'string' },
    },
  });
  const [command, arg] = positionals;
  if (!command || values.help) fail(usage);
  loadEnv();

  if (isApiCommand(command)) {
    const token = values.token ?? process.env.OPS_TOKEN;
    if (!token) fail(`${command} needs an ops token: --token or OPS_TOKEN`);
    process.exitCode = await runApiCommand(command, positionals.slice(1), {
      url: values.url ?? process.env.OPS_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`,
      token,
      json: values.json ?? false,
      values,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    });
    return;
  }

  const prisma = createPrisma(databaseUrl(), 2);
  const actor: Actor = { type: 'CLI', id: process.env.USER ?? 'ops-cli' };
  try {
    switch (command) {
      case 'token:create': {
        const role = values.role?.toUpperCase();
        if (!values.name || (role !== 'OPS' && role !== 'ADMIN'))
          fail('token:create needs --name and --role ops|admin');
        const created = await prisma.$transaction((tx) =>
          createOpsToken(tx, actor, { name: values.name!, role }),
        );
        console.log(
          `ops token for ${created.name} (${created.role}), id ${created.id}. Shown once:\n${created.token}`,
        );
        break;
      }
      case 'token:list':
        console.table(await listOpsTokens(prisma));
        break;
      case 'token:revoke':
        if (!arg) fail('token:revoke needs the token id');
        await prisma.$transaction((tx) => revokeOpsToken(tx, actor, arg));
        console.log(`revoked ops token ${arg}`);
        break;
      case 'key:issue': {
        if (!values.base || !/^\d{17}$/.test(values.base) || !values.machine)
          fail('key:issue needs --base <17 digits> and --machine <name>');
        const created = await prisma.$transaction(async (tx) => {
          await tx.base.upsert({ where: { id: values.base! }, create: { id: values.base! }, update: {} });
          return createInstallation(tx, actor, { baseId: values.base!, machineName: values.machine! });
        });
        console.log(
          `key ${created.keyId} for machine ${created.machineName} of base ${created.baseId}. Shown once:\n${created.apiKey}`,
        );
        break;
      }
      case 'key:revoke':
        if (!arg) fail('key:revoke needs the key id');
        await prisma.$transaction((tx) => revokeApiKey(tx, actor, arg));
        console.log(`revoked key ${arg}`);
        break;
      case 'promo:create': {
        if (!values.definition) fail('promo:create needs --definition <json>');
        const parsed = promoCodeDefinitionSchema.safeParse(JSON.parse(values.definition));
        if (!parsed.success)
          fail(
            `promo:create: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          );
        const created = await createPromoCode(prisma, actor, parsed.data);
        console.log(`promo code ${created.code} created`);
        break;
      }
      case 'promo:list':
        console.table(await listPromoCodes(prisma));
        break;
      case 'promo:deactivate':
        if (!arg) fail('promo:deactivate needs the code');
        console.log(`promo code ${(await deactivatePromoCode(prisma, actor, arg)).code} deactivated`);
        break;
      default:
        fail(`unknown command ${command}\n\n${usage}`);
    }
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(EXIT.FAILED);
});
