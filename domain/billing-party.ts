/**
 * The billing party: who is invoiced, in one place. Billing details are given at purchase (or taken from
 * the customer's account) and kept on the purchase and the licence for renewals; an invoice, credit note
 * or receipt names its buyer from them. Every caller maps an account or billing details through here,
 * so a new field (a SIREN, a VAT number) reaches every document at once.
 */
import { z } from 'zod';
import { isCountryCode } from './countries';
import type { InvoiceBuyer } from './invoice';
import { VAT_NUMBER_SHAPE } from './vat';

/** Who is invoiced: given at purchase, kept on the licence for renewals. */
export const billingDetailsSchema = z.object({
  companyName: z.string().trim().min(1).max(200),
  lastName: z.string().trim().min(1).max(100),
  firstName: z.string().trim().min(1).max(100),
  address: z.string().trim().min(1).max(300),
  postalCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9 -]{2,10}$/, 'a postal code (2 to 10 letters or digits)'),
  city: z.string().trim().min(1).max(100),
  country: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 3166-1 alpha-3 country code, e.g. FRA')
    .refine(isCountryCode, 'unknown country code'),
  email: z.email().max(254),
  vatNumber: z.string().regex(VAT_NUMBER_SHAPE, 'a VAT number, e.g. FR40303265045').optional(),
  siren: z
    .string()
    .regex(/^\d{9}$/, 'a SIREN is 9 digits')
    .optional(),
});

export type BillingDetails = z.infer<typeof billingDetailsSchema>;

/** The customer account's fields that make a billing party (an account row has them all). */
export type AccountParty = Omit<BillingDetails, 'vatNumber' | 'siren'> & {
  vatNumber: string | null;
  siren: string | null;
};

/** The account as billing details; `email` where invoices go elsewhere than the account's address. */
export function billingDetailsOf(account: AccountParty, email: string = account.email): BillingDetails {
  return {
    companyName: account.companyName,
    lastName: account.lastName,
    firstName: account.firstName,
    address: account.address,
    postalCode: account.postalCode,
    city: account.city,
    country: account.country,
    email,
    ...(account.vatNumber ? { vatNumber: account.vatNumber } : {}),
    ...(account.siren ? { siren: account.siren } : {}),
  };
}

/** The buyer a document names, from the billing details. */
export function buyerOf(billing: BillingDetails): InvoiceBuyer {
  return {
    companyName: billing.companyName,
    name: `${billing.firstName} ${billing.lastName}`,
    address: billing.address,
    postalCode: billing.postalCode,
    city: billing.city,
    country: billing.country,
    email: billing.email,
    vatNumber: billing.vatNumber,
    siren: billing.siren,
  };
}
