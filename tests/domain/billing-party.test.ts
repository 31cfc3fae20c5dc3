import {
  billingDetailsOf,
  billingDetailsSchema,
  buyerOf,
  type AccountParty,
} from '../../domain/billing-party';

const account: AccountParty = {
  companyName: 'Boulangerie Martin',
  lastName: 'Martin',
  firstName: 'Paul',
  address: '3 avenue Foch',
  postalCode: '69006',
  city: 'Lyon',
  country: 'FRA',
  email: 'compta@martin.example.fr',
  vatNumber: null,
  siren: null,
};

describe('billing party', () => {
  it('an account without VAT number or SIREN: billing details without them, valid for the schema', () => {
    const billing = billingDetailsOf(account);
    expect(billing).toEqual({
      companyName: 'Boulangerie Martin',
      lastName: 'Martin',
      firstName: 'Paul',
      address: '3 avenue Foch',
      postalCode: '69006',
      city: 'Lyon',
      country: 'FRA',
      email: 'compta@martin.example.fr',
    });
    expect(billingDetailsSchema.parse(billing)).toEqual(billing);
  });

  it('keeps the VAT number and SIREN, and takes another email where invoices go elsewhere', () => {
    const billing = billingDetailsOf(
      { ...account, vatNumber: 'FR40303265045', siren: '303265045' },
      'factures@martin.example.fr',
    );
    expect(billing).toMatchObject({
      vatNumber: 'FR40303265045',
      siren: '303265045',
      email: 'factures@martin.example.fr',
    });
  });

  it('a document names its buyer with the person addressed, the company and its registration', () => {
    expect(buyerOf(billingDetailsOf({ ...account, siren: '303265045' }))).toEqual({
      companyName: 'Boulangerie Martin',
      name: 'Paul Martin',
      address: '3 avenue Foch',
      postalCode: '69006',
      city: 'Lyon',
      country: 'FRA',
      email: 'compta@martin.example.fr',
      vatNumber: undefined,
      siren: '303265045',
    });
  });
});
