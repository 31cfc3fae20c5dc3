/** GET /licence-terms: what the ERP shows under "Afficher la licence", and the version a purchase accepts. */
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
