/**
 * Which VAT applies to a sale by the (French) vendor, from the buyer's country and VAT number (SPEC §3).
 *
 * `vatRule` trusts the VAT number it is given. Checking it is the caller's job: `isPlausibleVatNumber` is the
 * one offline check (the country's prefix, then its format and check digits from the maintained `jsvat-next`
 * rules: "BE12" or "DE123456789" are refused rather than reverse-charged), used by the quote, the purchases
 * and the billing schemas alike; whether the number really exists (VIES) is a network call, so it belongs in
 * an activity.
 */
import { checkVAT, countries as vatCountries } from 'jsvat-next';
import { EU_MEMBER_STATES } from './countries';

export type VatKind = 'FRANCE' | 'EU_REVERSE_CHARGE' | 'EU_CONSUMER' | 'OUTSIDE_EU';

export interface VatRule {
  kind: VatKind;
  rateBasisPoints: number;
  /** Printed on the invoice when VAT is not charged. */
  legalMention?: string;
}

export const FRENCH_VAT_RATE_BASIS_POINTS = 2000;

export const REVERSE_CHARGE_MENTION =
  'Autoliquidation — TVA due par le preneur (article 196 de la directive 2006/112/CE)';
export const OUTSIDE_EU_MENTION = 'TVA non applicable — article 259-1 du CGI';

/**
 * VAT-number prefix of each country in the EU VAT territory: the ISO alpha-2 code, except Greece ("EL").
 * Monaco is not an EU member but belongs to the French VAT territory (directive 2006/112/CE art. 7): its
 * businesses have FR numbers and pay French VAT. French overseas departments (GLP, MTQ, REU, GUF, MYT) have
 * their own ISO codes, are outside the EU VAT territory and are therefore absent here.
 */
const VAT_PREFIXES: Readonly<Record<string, string>> = {
  AUT: 'AT',
  BEL: 'BE',
  BGR: 'BG',
  HRV: 'HR',
  CYP: 'CY',
  CZE: 'CZ',
  DNK: 'DK',
  EST: 'EE',
  FIN: 'FI',
  FRA: 'FR',
  DEU: 'DE',
  GRC: 'EL',
  HUN: 'HU',
  IRL: 'IE',
  ITA: 'IT',
  LVA: 'LV',
  LTU: 'LT',
  LUX: 'LU',
  MLT: 'MT',
  NLD: 'NL',
  POL: 'PL',
  PRT: 'PT',
  ROU: 'RO',
  SVK: 'SK',
  SVN: 'SI',
  ESP: 'ES',
  SWE: 'SE',
  MCO: 'FR',
};

/** Countries whose sales carry French VAT whatever the buyer: France itself and Monaco. */
const FRENCH_VAT_TERRITORY = new Set(['FRA', 'MCO']);

/** The VAT-number prefix of an EU VAT-territory country, undefined elsewhere. */
export function vatPrefix(country: string): string | undefined {
  return VAT_PREFIXES[country];
}

/** The shape every VAT number has (canonical form: upper case, no spaces), whatever its country. */
export const VAT_NUMBER_SHAPE = /^[A-Z]{2}[A-Z0-9]{2,13}$/;

/**
 * Offline check of an EU VAT number (canonical form: upper case, no spaces): the country's prefix, then the
 * country's format and check digits (jsvat-next), e.g. "DE811907980", "EL094259216". False for countries
 * outside the EU VAT territory, where a buyer's tax number does not change the VAT and is not checked.
 */
export function isPlausibleVatNumber(country: string, vatNumber: string): boolean {
  const prefix = vatPrefix(country);
  if (prefix === undefined || !vatNumber.startsWith(prefix) || !VAT_NUMBER_SHAPE.test(vatNumber))
    return false;
  return checkVAT(vatNumber, vatCountries).isValid;
}

/**
 * The rule every purchase applies to a buyer's VAT number: inside the EU VAT territory (where the number
 * decides reverse charge) it must pass `isPlausibleVatNumber`; elsewhere it is only printed.
 */
export function vatNumberRefused(buyer: { country: string; vatNumber?: string }): boolean {
  const { country, vatNumber } = buyer;
  return !!vatNumber && vatPrefix(country) !== undefined && !isPlausibleVatNumber(country, vatNumber);
}

export function vatRule(buyer: { country: string; vatNumber?: string }): VatRule {
  const { country } = buyer;
  const hasVatNumber = buyer.vatNumber !== undefined && buyer.vatNumber.trim() !== '';
  if (FRENCH_VAT_TERRITORY.has(country)) {
    return { kind: 'FRANCE', rateBasisPoints: FRENCH_VAT_RATE_BASIS_POINTS };
  }
  if (EU_MEMBER_STATES.has(country)) {
    if (hasVatNumber)
      return { kind: 'EU_REVERSE_CHARGE', rateBasisPoints: 0, legalMention: REVERSE_CHARGE_MENTION };
    // An EU consumer (no VAT number): while the vendor's cross-border B2C sales stay under the EU-wide
    // €10,000 yearly threshold (directive 2006/112/CE art. 59 quater), French VAT applies. Above it, the
    // buyer's country's rate is due through the OSS — not handled here; revisit if that threshold is crossed.
    return { kind: 'EU_CONSUMER', rateBasisPoints: FRENCH_VAT_RATE_BASIS_POINTS };
  }
  // Outside the EU VAT territory, including French overseas departments and unknown codes (quote input is
  // validated against ISO 3166 before reaching here).
  return { kind: 'OUTSIDE_EU', rateBasisPoints: 0, legalMention: OUTSIDE_EU_MENTION };
}
