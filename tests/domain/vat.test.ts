import { EU_MEMBER_STATES } from '../../domain/countries';
import {
  OUTSIDE_EU_MENTION,
  REVERSE_CHARGE_MENTION,
  isPlausibleVatNumber,
  vatPrefix,
  vatRule,
} from '../../domain/vat';

describe('VAT rule', () => {
  it('France: 20 %, with or without a VAT number', () => {
    expect(vatRule({ country: 'FRA' })).toEqual({ kind: 'FRANCE', rateBasisPoints: 2000 });
    expect(vatRule({ country: 'FRA', vatNumber: 'FR40303265045' })).toEqual({
      kind: 'FRANCE',
      rateBasisPoints: 2000,
    });
  });

  it('EU business with a VAT number: reverse charge, 0 %, with the legal mention', () => {
    expect(vatRule({ country: 'DEU', vatNumber: 'DE811907980' })).toEqual({
      kind: 'EU_REVERSE_CHARGE',
      rateBasisPoints: 0,
      legalMention: 'Autoliquidation — TVA due par le preneur (article 196 de la directive 2006/112/CE)',
    });
  });

  it('EU buyer without a VAT number: French VAT (under the OSS threshold)', () => {
    expect(vatRule({ country: 'DEU' })).toEqual({ kind: 'EU_CONSUMER', rateBasisPoints: 2000 });
    expect(vatRule({ country: 'DEU', vatNumber: '  ' })).toEqual({
      kind: 'EU_CONSUMER',
      rateBasisPoints: 2000,
    });
  });

  it('outside the EU: 0 % with the article 259-1 mention', () => {
    const outside = {
      kind: 'OUTSIDE_EU',
      rateBasisPoints: 0,
      legalMention: 'TVA non applicable — article 259-1 du CGI',
    };
    expect(vatRule({ country: 'USA' })).toEqual(outside);
    expect(vatRule({ country: 'CHE', vatNumber: 'CHE123456789' })).toEqual(outside);
    expect(OUTSIDE_EU_MENTION).toBe(outside.legalMention);
  });

  it.each(['GLP', 'MTQ', 'REU', 'GUF', 'MYT'])(
    'French overseas department %s is outside the EU VAT territory',
    (country) => {
      expect(vatRule({ country }).kind).toBe('OUTSIDE_EU');
    },
  );

  it('Monaco is in the French VAT territory', () => {
    expect(vatRule({ country: 'MCO' }).kind).toBe('FRANCE');
    expect(isPlausibleVatNumber('MCO', 'FR83404833048')).toBe(true);
  });

  it('every EU member state has a VAT prefix, Greece uses EL', () => {
    for (const country of EU_MEMBER_STATES) expect(vatPrefix(country)).toMatch(/^[A-Z]{2}$/);
    expect(vatPrefix('GRC')).toBe('EL');
    expect(vatPrefix('USA')).toBeUndefined();
    expect(REVERSE_CHARGE_MENTION).toContain('Autoliquidation');
  });
});

describe('VAT number plausibility', () => {
  it.each([
    ['DEU', 'DE811907980'],
    ['FRA', 'FR40303265045'],
    ['GRC', 'EL094259216'],
    ['NLD', 'NL004495445B01'],
    ['AUT', 'ATU13585627'],
  ])('%s %s is plausible', (country, vatNumber) => {
    expect(isPlausibleVatNumber(country, vatNumber)).toBe(true);
  });

  it.each([
    ['DEU', 'FR123456789', 'prefix of another country'],
    ['GRC', 'GR123456789', 'Greece is EL, not GR'],
    ['DEU', 'DE1', 'too short'],
    ['BEL', 'BE12', 'too short for Belgium'],
    ['DEU', 'DE123456789', 'wrong check digit'],
    ['BEL', 'BE0123456789', 'wrong check digits'],
    ['DEU', 'DE81190798001234', 'too long'],
    ['DEU', 'DE 123 456 789', 'not in canonical form'],
    ['DEU', 'de123456789', 'lower case'],
    ['DEU', 'DE12345-789', 'punctuation'],
    ['USA', 'US123456789', 'no EU VAT outside the EU'],
  ])('%s %s is implausible (%s)', (country, vatNumber) => {
    expect(isPlausibleVatNumber(country, vatNumber)).toBe(false);
  });
});
