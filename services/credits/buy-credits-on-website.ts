/**
 * A support pack or wallet recharge bought on the public page (the manual's "si Gestan ne s'ouvre pas… achat
 * en ligne"), by someone whose ERP won't open. The buyer gives their account ID and email: when both name
 * the same active account, the purchase is the account's and is credited as soon as it is paid; anything
 * else (no ID, an unknown ID, another email) goes the website way — paid, then waiting in the ops
 * manual-credit queue with the claimed ID for ops to check, as before.
 */
import { priceCreditProduct } from '../../domain/credits';
import type { Actor } from '../actor';
import { getCatalog } from '../catalog/get-catalog';
import type { ServiceDeps } from '../deps';
import type { BillingDetails } from '../../domain/billing-party';
import { purchaseCredits, type CreditPurchaseRequest } from './purchase-credits';

export async function buyCreditsOnWebsite(
  deps: ServiceDeps,
  options: { actor: Actor; request: CreditPurchaseRequest & { billing: BillingDetails } },
) {
  const { request } = options;
  const account =
    request.claimedAccountId === undefined
      ? null
      : await deps.prisma.account.findUnique({
          where: { id: request.claimedAccountId },
          select: { id: true, status: true, email: true },
        });
  const matched =
    account?.status === 'ACTIVE' && account.email.toLowerCase() === request.billing.email.toLowerCase();
  return purchaseCredits(deps, {
    actor: options.actor,
    channel: matched ? { kind: 'ACCOUNT', accountId: account.id } : { kind: 'WEBSITE' },
    request,
  });
}

/** What the public page offers: the support packs with their price incl. French VAT, the recharge minimum. */
export async function websiteOffer(deps: Pick<ServiceDeps, 'prisma'>) {
  const catalog = await getCatalog(deps.prisma);
  const packs = catalog.supportPacks.map((pack) => {
    const priced = priceCreditProduct(
      catalog,
      { kind: 'SUPPORT_PACK', minutes: pack.minutes },
      { country: 'FRA' },
    );
    return { minutes: pack.minutes, inclVatCents: priced.ok ? priced.amountCents : pack.priceCents };
  });
  return { packs, walletMinimumCents: catalog.walletMinimumRechargeCents, currency: catalog.currency };
}
