/**
 * A client of the service written only against the types `openapi-typescript` generated from
 * /openapi.json, calling it through `openapi-fetch`: register a machine, ask a quote, buy a licence (by
 * cheque), buy it again with the same key (the 200 replay), read the licence screen. Type-checked by the
 * test before it runs, so a document that a generator reads wrongly fails at compile time.
 *
 *   tsx flow.ts BASE_URL BASE_ID TERMS_VERSION   (prints the answers as JSON)
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';

async function main(baseUrl: string, baseId: string, termsVersion: string) {
  const api = createClient<paths>({ baseUrl });

  const registered = await api.POST('/installations', { body: { baseId, machineName: 'POSTE-CLIENT' } });
  if (!registered.data || !('apiKey' in registered.data))
    throw new Error(`register: ${JSON.stringify(registered.error ?? registered.data)}`);
  const apiKey: string = registered.data.apiKey;
  const headers = { Authorization: `Bearer ${apiKey}` };

  const terms = await api.GET('/licence-terms');
  if (!terms.data) throw new Error('terms');

  const quote = await api.POST('/quotes', {
    body: { edition: 'ENTERPRISE', mode: 'LOCAL', connections: 2, period: 'ANNUAL', country: 'FRA' },
  });
  if (!quote.data) throw new Error(`quote: ${JSON.stringify(quote.error)}`);
  const totalInclVatCents: number = quote.data.totalInclVatCents;

  const body = {
    idempotencyKey: `client-${baseId}`,
    edition: 'ENTERPRISE' as const,
    mode: 'LOCAL' as const,
    connections: 2,
    period: 'ANNUAL' as const,
    paymentMethod: 'CHEQUE' as const,
    billing: {
      companyName: 'Garage Martin',
      lastName: 'Martin',
      firstName: 'Paul',
      address: '3 avenue Foch',
      postalCode: '69006',
      city: 'Lyon',
      country: 'FRA',
      email: 'paul@garage-martin.example.fr',
    },
    terms: { version: terms.data.version, accepted: true },
  };
  const params = { path: { baseId } };
  const purchase = await api.POST('/bases/{baseId}/subscriptions', { params, headers, body });
  if (!purchase.data) throw new Error(`purchase: ${JSON.stringify(purchase.error)}`);
  const replay = await api.POST('/bases/{baseId}/subscriptions', { params, headers, body });
  if (!replay.data) throw new Error(`replay: ${JSON.stringify(replay.error)}`);

  const screen = await api.GET('/bases/{baseId}/licence', { params, headers });
  if (!screen.data) throw new Error('licence screen');
  const pending: string | undefined = screen.data.pendingPurchase?.purchaseId;

  const refused = await api.POST('/bases/{baseId}/subscriptions', {
    params,
    headers,
    body: {
      ...body,
      idempotencyKey: `other-${baseId}`,
      terms: { version: `${termsVersion}-old`, accepted: true },
    },
  });
  const refusedCode: string | undefined = refused.error?.error.code;

  console.log(
    JSON.stringify({
      termsVersion: terms.data.version,
      totalInclVatCents,
      purchase: { http: purchase.response.status, ...purchase.data },
      replay: { http: replay.response.status, ...replay.data },
      pending,
      refused: { http: refused.response.status, code: refusedCode },
    }),
  );
}

const [baseUrl, baseId, termsVersion] = process.argv.slice(2);
main(baseUrl!, baseId!, termsVersion!).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
