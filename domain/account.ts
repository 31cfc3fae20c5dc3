/** Customer-account rules: field formats, the company identity used for "one account per company". */
import { isCountryCode } from './countries';

/** APE/NAF code (NAF rév. 2): 4 digits and a letter, e.g. 1107B; "11.07B" is accepted and normalised. */
export const APE_PATTERN = /^\d{2}\.?\d{2}[A-Za-z]$/;

export function normaliseApe(value: string): string {
  return value.replace('.', '').toUpperCase();
}

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

const LEGAL_FORMS = new Set([
  'sa',
  'sas',
  'sasu',
  'sarl',
  'eurl',
  'sci',
  'snc',
  'scop',
  'selarl',
  'ei',
  'eirl',
  'scs',
  'sca',
  'gie',
]);

/** Company name without accents, case, punctuation or legal form: "Boulangerie Dupont S.A.R.L." → "boulangerie dupont". */
export function normaliseCompanyName(name: string): string {
  const words = name
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/\b([a-z])\.(?=[a-z]\.)/g, '$1') // S.A.R.L. → SARL
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w && !LEGAL_FORMS.has(w));
  return words.join(' ');
}

/** The identity of a company: normalised name, postal code and country. */
export function companyKey(name: string, postalCode: string, country: string): string {
  return [
    normaliseCompanyName(name),
    postalCode.replace(/\s+/g, '').toUpperCase(),
    country.toUpperCase(),
  ].join('|');
}

export function isValidCountry(country: string): boolean {
  return isCountryCode(country);
}

/** "jean.dupont@example.com" → "j*********@example.com": shown when a code was sent, without revealing the address. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}${'*'.repeat(Math.max(local.length - 1, 1))}@${domain}`;
}
