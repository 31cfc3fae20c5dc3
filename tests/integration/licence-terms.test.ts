/** GET /licence-terms: what the ERP shows under "Afficher la licence", and the version a purchase accepts. */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { readLicenceTerms } from '../../services/licences/licence-terms';
import { createHarness, testBilling, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

it('answers the version in force and its text, without a key', async () => {
  const res = await request(h.app).get('/licence-terms');
  expect(res.status).toBe(200);
  expect(res.body.version).toBe(testBilling.termsVersion);
  expect(res.body.text).toMatch(/^CONTRAT DE LICENCE D'UTILISATION/);
  expect(res.body.text).toContain(`version ${testBilling.termsVersion}`);
});

it('a version without its text is refused at start', () => {
  expect(() => readLicenceTerms('1999-01')).toThrow(/missing/);
  expect(() => readLicenceTerms('../package')).toThrow(/not a file name/);
});

it('docs/licence-file.md documents the body POST /licences/verify takes (both forms reach the verifier)', async () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'licence-file.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Online: `POST /licences/verify`'));
  const bodies = [...section.matchAll(/^```(?:http|json)\n([\s\S]*?)```/gm)].map(
    (m) => JSON.parse(m[1]!.slice(m[1]!.indexOf('{'))) as unknown,
  );
  expect(bodies).toHaveLength(2);
  for (const body of bodies) {
    const res = await request(h.app)
      .post('/licences/verify')
      .send(body as object);
    // the example's payload is shortened, so it does not verify: but it is the verifier's answer, not a 400
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('LICENCE_FILE_INVALID');
  }
});
