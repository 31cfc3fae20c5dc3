import { VAT_NUMBER_SHAPE } from '../../domain/vat';
import { z } from 'zod';
import { isCountryCode } from '../../domain/countries';

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

export function buyerOf(billing: BillingDetails) {
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
