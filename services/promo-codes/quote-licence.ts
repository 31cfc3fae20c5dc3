/** `POST /quotes`: a licence priced with the catalogue in force, and the promo code's line when one is given. */
import type { Quote, QuoteRequest } from '../../domain/quote';
import { quote } from '../../domain/quote';
import { withDiscount } from '../../domain/promo-code';
import { normaliseExtensions, unknownExtensions, withExtensionLines } from '../../domain/extensions';
import type { Catalog } from '../../domain/catalog';
import { AppError } from '../../domain/errors';
import type { PrismaClient } from '../../infra/prisma';
import { getCatalog } from '../catalog/get-catalog';
import { applicablePromo } from './apply-promo-code';

/**
 * A code that does not apply is refused with its reason (never a silent full price). Without a base the
 * once-per-base rule can't be checked here: the purchase checks it.
 */
export async function quoteLicence(
  prisma: PrismaClient,
  request: QuoteRequest,
  promoCode?: string,
  extensions?: string[],
): Promise<Quote> {
  const priced = licenceListPrice(await getCatalog(prisma), request, extensions);
  if (!promoCode) return priced;
  const { edition, mode, period } = request;
  const discount = await applicablePromo(prisma, {
    code: promoCode,
    choice: { edition, mode, period },
    now: new Date(),
  });
  return withDiscount(priced, discount);
}

/**
 * A licence at the catalogue's price with a line for each extension bought with it; an extension the
 * catalogue does not sell is refused (UNKNOWN_EXTENSION), never dropped.
 */
export function licenceListPrice(catalog: Catalog, request: QuoteRequest, extensions?: string[]): Quote {
  const codes = normaliseExtensions(extensions);
  const unknown = unknownExtensions(catalog, codes);
  if (unknown.length > 0)
    throw new AppError('UNKNOWN_EXTENSION', `The catalogue sells no extension ${unknown.join(', ')}`, {
      unknown,
    });
  const { connections, period } = request;
  return withExtensionLines(catalog, quote(catalog, request), { connections, period, extensions: codes });
}
