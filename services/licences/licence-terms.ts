import fs from 'node:fs';
import path from 'node:path';

/** The licence terms the ERP shows before a purchase ("Afficher la licence") and the buyer accepts. */
export interface LicenceTerms {
  version: string;
  text: string;
}

const TERMS_DIR = path.join(__dirname, '..', '..', 'licence-terms');

/** Reads `licence-terms/<version>.txt`; a version without its text is a configuration error, found at start. */
export function readLicenceTerms(version: string): LicenceTerms {
  if (!/^[A-Za-z0-9._-]+$/.test(version)) throw new Error(`TERMS_VERSION "${version}" is not a file name`);
  const file = path.join(TERMS_DIR, `${version}.txt`);
  if (!fs.existsSync(file)) throw new Error(`TERMS_VERSION=${version} has no text: ${file} is missing`);
  return { version, text: fs.readFileSync(file, 'utf8') };
}
