import { VAT_NUMBER_SHAPE } from '../domain/vat';
/** Request and response shapes, shared by validation and the OpenAPI document. */
import { z } from 'zod';
import { APE_PATTERN, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../domain/account';
import { BASE_ID_PATTERN } from '../domain/base-id';
import { isCountryCode } from '../domain/countries';
import { CODE_PATTERN } from '../domain/email-code';

export const baseId = z
  .string()
  .regex(BASE_ID_PATTERN, 'a base ID is exactly 17 digits')
  .openapi({ example: '82520020025896075' });
export const machineName = z.string().trim().min(1).max(100).openapi({ example: 'POSTE-COMPTA-01' });
export const email = z.email().max(254).openapi({ example: 'jean.dupont@example.fr' });
export const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH);
export const code = z.string().regex(CODE_PATTERN, 'the code is 6 digits').openapi({ example: '042917' });
export const accountId = z.coerce.number().int().positive().max(2_147_483_647);
export const country = z
  .string()
  .transform((v) => v.toUpperCase())
  .refine(isCountryCode, 'an ISO 3166-1 alpha-3 country code, e.g. FRA')
  .openapi({ example: 'FRA', type: 'string' });

const text = (max: number) => z.string().trim().min(1).max(max);

export const accountDetails = z.object({
  companyName: text(200),
  lastName: text(100),
  firstName: text(100),
  address: text(300),
  postalCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9 -]{2,10}$/, 'a postal code (2 to 10 letters or digits)'),
  city: text(100),
  country,
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9 .()-]{6,20}$/, 'a phone number'),
  apeCode: z
    .string()
    .trim()
    .regex(APE_PATTERN, 'an APE/NAF code: 4 digits and a letter, e.g. 1107B')
    .optional(),
  siren: z
    .string()
    .regex(/^\d{9}$/, 'a SIREN is 9 digits')
    .optional(),
  vatNumber: z.string().regex(VAT_NUMBER_SHAPE, 'a VAT number, e.g. FR40303265045').optional(),
});

export const accountView = z.object({
  id: z.number().int(),
  status: z.enum(['PENDING', 'ACTIVE']),
  companyName: z.string(),
  lastName: z.string(),
  firstName: z.string(),
  address: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
  email: z.string(),
  phone: z.string(),
  apeCode: z.string().nullable(),
  siren: z.string().nullable(),
  vatNumber: z.string().nullable(),
  hasPassword: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  confirmedAt: z.string().nullable(),
});

export const codeSent = z.object({ codeSentTo: z.string().openapi({ example: 'j*********@example.fr' }) });

/** a catalogue extension's code (GET /catalog: `extensions`) */
export const extensionCode = z
  .string()
  .regex(/^[A-Z0-9_]{2,32}$/)
  .openapi({ example: 'STOCKS' });
