/**
 * The public purchase page (`/achat`): support packs and wallet recharges for buyers whose ERP won't open
 * (manual 000, "achat en ligne : 15 / 30 / 60 minutes"). A form over `POST /credit-purchases`; the answer's
 * payment URL then takes the payment like any other purchase.
 */
import { esc, euros, jsonForScript, layout } from './render';

export interface WebsiteOffer {
  packs: { minutes: number; inclVatCents: number }[];
  walletMinimumCents: number;
  currency: string;
}

const countries: [string, string][] = [
  ['FRA', 'France'],
  ['BEL', 'Belgique'],
  ['LUX', 'Luxembourg'],
  ['CHE', 'Suisse'],
  ['DEU', 'Allemagne'],
  ['ESP', 'Espagne'],
  ['ITA', 'Italie'],
];

const field = (name: string, label: string, attributes = '') =>
  `<label>${esc(label)}<input name="${name}" ${attributes}></label>`;

export function renderPurchasePage(
  offer: WebsiteOffer,
  chosen?: { minutes?: number; recharge?: boolean },
): string {
  const defaultMinutes = chosen?.recharge ? undefined : (chosen?.minutes ?? offer.packs[0]?.minutes);
  const packs = offer.packs
    .map(
      (p) =>
        `<label class="choice"><input type="radio" name="product" value="pack:${p.minutes}"${p.minutes === defaultMinutes ? ' checked' : ''}> Pack support ${p.minutes} min — ${esc(euros(p.inclVatCents, offer.currency))} TTC</label>`,
    )
    .join('\n');
  const minimum = offer.walletMinimumCents / 100;
  return layout(
    'Achat en ligne',
    'buy',
    `<section>
<p>Gestan ne s’ouvre pas ? Achetez ici du crédit-temps de support ou des crédits pour votre portefeuille.</p>
<form id="purchase-form">
<h2>Votre achat</h2>
${packs}
<label class="choice"><input type="radio" name="product" value="recharge"${chosen?.recharge ? ' checked' : ''}> Recharge du portefeuille de crédits (1 crédit = 1 €)</label>
${field('rechargeEuros', `Montant de la recharge (€, minimum ${minimum})`, `type="number" min="${minimum}" step="1" value="${Math.max(minimum, 50)}" inputmode="numeric"`)}
<h2>Votre compte client</h2>
${field('accountId', 'N° de compte client (si vous le connaissez)', 'type="number" min="1" inputmode="numeric"')}
${field('email', 'E-mail du compte', 'type="email" required autocomplete="email"')}
<p class="note">Avec le n° de compte et son e-mail, l’achat est crédité dès le paiement ; sinon nos équipes le rattachent à votre compte.</p>
<h2>Facturation</h2>
${field('companyName', 'Raison sociale', 'required autocomplete="organization"')}
${field('lastName', 'Nom', 'required autocomplete="family-name"')}
${field('firstName', 'Prénom', 'required autocomplete="given-name"')}
${field('address', 'Adresse', 'required autocomplete="street-address"')}
${field('postalCode', 'Code postal', 'required autocomplete="postal-code"')}
${field('city', 'Ville', 'required autocomplete="address-level2"')}
<label>Pays<select name="country">${countries.map(([code, name]) => `<option value="${code}">${esc(name)}</option>`).join('')}</select></label>
${field('vatNumber', 'N° de TVA intracommunautaire (facultatif)', 'autocomplete="off"')}
<button id="buy-button" type="submit">Continuer vers le paiement</button>
<p id="payment-message" class="message" role="alert" aria-live="polite"></p>
</form>
</section>`,
    `<script type="application/json" id="payment-config">${jsonForScript({ purchaseUrl: '/credit-purchases' })}</script>
<script src="/pay/assets/payment-page.js"></script>`,
  );
}
