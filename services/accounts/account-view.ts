import { billingDetailsOf } from '../../domain/billing-party';
import type { Account } from '../../generated/prisma/client';

/** The account as shown to its owner (never the password hash). */
export function accountView(account: Account) {
  return {
    id: account.id,
    status: account.status,
    // who the account's purchases invoice (domain/billing-party.ts), with its contact and registration
    ...billingDetailsOf(account),
    phone: account.phone,
    apeCode: account.apeCode,
    siren: account.siren,
    vatNumber: account.vatNumber,
    hasPassword: account.passwordHash !== null,
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
    confirmedAt: account.confirmedAt?.toISOString() ?? null,
  };
}

export type AccountView = ReturnType<typeof accountView>;

export interface AccountDetails {
  companyName: string;
  lastName: string;
  firstName: string;
  address: string;
  postalCode: string;
  city: string;
  country: string;
  phone: string;
  apeCode?: string | null;
  siren?: string | null;
  vatNumber?: string | null;
}
