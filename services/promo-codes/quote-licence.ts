/** `POST /quotes`: a licence priced with the catalogue in force, and the promo code's line when one is given. */
import type { Quote, QuoteRequest } from '../../domain/quote';
import { quote } from '../../domain/quote';
import { withDiscount } from '../../domain/promo-code';
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
): Promise<Quote> {
  const priced = quote(await getCatalog(prisma), request);
  if (!promoCode) return priced;
  const { edition, mode, period } = request;
  const discount = await applicablePromo(prisma, {
    code: promoCode,
    choice: { edition, mode, period },
    now: new Date(),
  });
  return withDiscount(priced, discount);
}
