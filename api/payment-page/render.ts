/**
 * The payment page's HTML, in French, one column for phones. Every value is escaped; the data the
 * script needs is a JSON `<script type="application/json">` (not executed, so the CSP allows no inline
 * script at all).
 */
import type { PaymentOrder, PaymentPageView } from '../../services/payments/payment-page';

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const esc = (value: string | number) => String(value).replace(/[&<>"']/g, (c) => escapes[c]!);
/** JSON safe inside a script element */
export const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function euros(cents: number, currency = 'EUR'): string {
  return new Intl.NumberFormat('fr-FR', { style: 'currency', currency }).format(cents / 100);
}

function frenchDate(iso: string): string {
  return new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(
    new Date(iso),
  );
}

/** Stripe.js and what it talks to: the CSP lets the page reach these and nothing else. */
export function stripeOrigins(stripeJsUrl: string): { script: string; api: string; local: boolean } {
  const script = new URL(stripeJsUrl).origin;
  const local = new URL(stripeJsUrl).hostname !== 'js.stripe.com';
  return { script, api: local ? script : 'https://api.stripe.com', local };
}

export function paymentPageCsp(stripeJsUrl: string): string {
  const { script, api } = stripeOrigins(stripeJsUrl);
  return [
    "default-src 'self'",
    `script-src 'self' ${script}`,
    "style-src 'self'",
    `connect-src 'self' ${api}`,
    `frame-src ${script} https://hooks.stripe.com`,
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

export function layout(
  title: string,
  page: 'pay' | 'done' | 'buy' | 'error',
  body: string,
  scripts = '',
): string {
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${esc(title)} — Gestan</title>
<link rel="stylesheet" href="/pay/assets/payment-page.css">
</head>
<body data-page="${page}">
<main>
<header><h1>${esc(title)}</h1><p>Gestan — paiement sécurisé</p></header>
${body}
</main>
<footer>Paiement traité par Stripe. Gestan ne voit jamais le numéro de votre carte.</footer>
${scripts}
</body>
</html>
`;
}

function orderSection(order: PaymentOrder): string {
  const lines = order.lines
    .map(
      (l) =>
        `<tr><td>${esc(l.description)}</td><td class="amount">${esc(euros(l.totalExclVatCents, order.currency))}</td></tr>`,
    )
    .join('\n');
  const rates = [...new Set(order.lines.map((l) => l.vatRateBasisPoints))];
  const rate = rates.length === 1 && rates[0]! > 0 ? ` (${esc(rates[0]! / 100)} %)` : '';
  const terms = order.terms
    ? `<p class="note" id="terms">Conditions générales de licence version ${esc(order.terms.version)} acceptées le ${esc(frenchDate(order.terms.acceptedAt))}.</p>`
    : '';
  return `<section id="order">
<h2>${esc(order.title)}</h2>
<table>
${lines}
<tr class="total"><td>Total HT</td><td class="amount" id="total-excl-vat">${esc(euros(order.totalExclVatCents, order.currency))}</td></tr>
<tr><td>TVA${rate}</td><td class="amount" id="vat">${esc(euros(order.vatCents, order.currency))}</td></tr>
<tr class="total grand"><td>Total TTC</td><td class="amount" id="total-incl-vat">${esc(euros(order.totalInclVatCents, order.currency))}</td></tr>
</table>
${order.vatMention ? `<p class="note">${esc(order.vatMention)}</p>` : ''}
${terms}
<p class="note">Facturé à ${esc(order.buyer.companyName)} — ${esc(order.buyer.email)}</p>
</section>`;
}

/**
 * SEPA Direct Debit beside the card (licence purchases and payment method changes, docs/sepa.md): the
 * mandate text shown and accepted. Production: the bank account is taken by Stripe's Payment Element in the
 * card form (its own mandate wording hidden: this one is shown and kept); development: localstripe's
 * stand-in has no IBAN field, so the page has its own form, posted to localstripe as Stripe.js would.
 */
function sepaSection(view: PaymentPageView, local: boolean, action: string): string {
  if (!view.sepa) return '';
  const mandate = `<p class="note" id="mandate-text">${esc(view.sepa.mandateText)}</p>
<label class="check"><input type="checkbox" id="mandate-accepted"> J’accepte ce mandat de prélèvement SEPA</label>`;
  if (!local) return `<section id="sepa"><h2>Prélèvement SEPA</h2>${mandate}</section>`;
  return `<section id="sepa">
<h2>Prélèvement SEPA</h2>
<form id="sepa-form">
<label>Titulaire du compte <input id="sepa-name" name="name" autocomplete="name" required></label>
<label>E-mail <input id="sepa-email" name="email" type="email" autocomplete="email" value="${esc(view.order.buyer.email)}" required></label>
<label>IBAN <input id="sepa-iban" name="iban" autocomplete="off" spellcheck="false" required></label>
${mandate}
<button id="sepa-button" type="submit">${esc(action)}</button>
<p id="sepa-message" class="message" role="alert" aria-live="polite"></p>
</form>
<p class="note" id="test-ibans">Prélèvement de test (localstripe) : FR1420041010050500013M02606 est réglé, FR3020041010050500013M02609 reste en cours jusqu’à son règlement, FR8420041010050500013M02607 est rejeté.</p>
</section>`;
}

/** The page that takes the payment (or says why it can't). */
export function renderPaymentPage(view: PaymentPageView, token: string): string {
  if (view.order.kind === 'CARD') return renderCardChangePage(view, token);
  const { order, intent } = view;
  const renewal = order.kind === 'RENEWAL';
  const title = renewal ? 'Confirmer le paiement' : 'Procéder au règlement';
  const base = `/pay/${token}`;
  if (order.state === 'PAID') {
    return layout(
      title,
      'error',
      `${orderSection(order)}<section><p>Cette commande est déjà réglée.</p><a class="button" href="${esc(base)}/done">Voir la confirmation et la facture</a></section>`,
    );
  }
  if (order.state === 'PROCESSING') {
    return layout(
      title,
      'error',
      `${orderSection(order)}<section><p>Votre prélèvement SEPA est en cours de règlement par votre banque.</p><a class="button" href="${esc(base)}/done">Voir où en est le paiement</a></section>`,
    );
  }
  if (order.state === 'CLOSED' || !intent || intent.status === 'canceled') {
    return layout(
      title,
      'error',
      `${orderSection(order)}<section><p class="message error">Cette commande a été annulée ou a expiré : elle ne peut plus être réglée. Recommencez l’achat depuis Gestan.</p></section>`,
    );
  }
  if (!view.publishableKey) {
    return layout(
      title,
      'error',
      `${orderSection(order)}<section><p class="message error">Le paiement en ligne n’est pas disponible pour le moment. Contactez-nous.</p></section>`,
    );
  }
  const origins = stripeOrigins(view.stripeJsUrl);
  const config = {
    publishableKey: view.publishableKey,
    clientSecret: intent.clientSecret,
    amount: intent.amount,
    currency: intent.currency,
    // a licence's card is kept for its renewals (the PaymentIntent was created with setup_future_usage)
    saveCard: order.kind === 'LICENCE',
    local: origins.local,
    stripeApiOrigin: origins.api,
    confirmUrl: `${base}/confirm`,
    doneUrl: `${base}/done`,
    ...(view.savedCard ? { savedPaymentMethodId: view.savedCard.paymentMethodId } : {}),
  };
  // development: localstripe takes Stripe's test cards only; say which
  const testCards = origins.local
    ? '<p class="note" id="test-cards">Paiement de test (localstripe) : 4242 4242 4242 4242 est acceptée, 4000 0027 6000 3184 demande 3-D Secure, 4000 0000 0000 0341 est refusée. Date future, CVC 3 chiffres.</p>'
    : '';
  const savedCard = view.savedCard
    ? `<p>Votre banque demande que vous confirmiez ce paiement avec votre carte enregistrée.</p>
<button id="saved-card-button" type="button">Confirmer avec ma carte ${esc(view.savedCard.label)}</button>
<p class="note">Ou payez avec une autre carte :</p>`
    : '';
  const saveNote =
    order.kind === 'LICENCE'
      ? '<p class="note">Votre carte est enregistrée pour le renouvellement automatique de la licence (modifiable dans Gestan).</p>'
      : '';
  return layout(
    title,
    'pay',
    `${orderSection(order)}
<section>
<h2>Carte bancaire</h2>
${savedCard}
<form id="payment-form">
<div id="card-element"></div>
<button id="pay-button" type="submit">Payer ${esc(euros(order.totalInclVatCents, order.currency))}</button>
<p id="payment-message" class="message" role="alert" aria-live="polite"></p>
</form>
${saveNote}
${testCards}
</section>
${sepaSection(view, origins.local, `Payer ${euros(order.totalInclVatCents, order.currency)} par prélèvement`)}`,
    `<script type="application/json" id="payment-config">${jsonForScript(config)}</script>
<script src="${esc(view.stripeJsUrl)}"></script>
<script src="/pay/assets/payment-page.js"></script>`,
  );
}

/** The card-change page: a new card saved for the licence's renewals (a SetupIntent). */
function renderCardChangePage(view: PaymentPageView, token: string): string {
  const { order, setup } = view;
  const title = 'Changer de moyen de paiement';
  const base = `/pay/${token}`;
  const intro = `<section id="order"><h2>${esc(order.title)}</h2><p class="note">Titulaire : ${esc(order.buyer.companyName)}${order.buyer.email ? ` — ${esc(order.buyer.email)}` : ''}</p></section>`;
  if (order.state !== 'AWAITING_PAYMENT' || !setup)
    return layout(
      title,
      'error',
      `${intro}<section><p class="message error">Cette licence n’est plus en cours : sa carte ne peut plus être changée.</p></section>`,
    );
  if (!view.publishableKey)
    return layout(
      title,
      'error',
      `${intro}<section><p class="message error">L’enregistrement de carte n’est pas disponible pour le moment. Contactez-nous.</p></section>`,
    );
  const origins = stripeOrigins(view.stripeJsUrl);
  const config = {
    mode: 'setup',
    publishableKey: view.publishableKey,
    clientSecret: setup.clientSecret,
    setupIntentId: setup.id,
    currency: 'eur',
    local: origins.local,
    stripeApiOrigin: origins.api,
    confirmUrl: `${base}/confirm`,
    doneUrl: `${base}/done?setupIntent=${encodeURIComponent(setup.id)}`,
  };
  const testCards = origins.local
    ? '<p class="note" id="test-cards">Carte de test (localstripe) : 4242 4242 4242 4242. Date future, CVC 3 chiffres.</p>'
    : '';
  return layout(
    title,
    'pay',
    `${intro}
<section>
<h2>Nouvelle carte bancaire</h2>
<form id="payment-form">
<div id="card-element"></div>
<button id="pay-button" type="submit">Enregistrer cette carte</button>
<p id="payment-message" class="message" role="alert" aria-live="polite"></p>
</form>
<p class="note">Cette carte sera débitée aux prochains renouvellements de la licence, automatiquement (modifiable dans Gestan). Rien n’est débité aujourd’hui.</p>
${testCards}
</section>
${sepaSection(view, origins.local, 'Enregistrer ce compte pour les renouvellements')}`,
    `<script type="application/json" id="payment-config">${jsonForScript(config)}</script>
<script src="${esc(view.stripeJsUrl)}"></script>
<script src="/pay/assets/payment-page.js"></script>`,
  );
}

/** The confirmation page: polls the outcome, then links the paid invoice (a card change: says it is saved). */
export function renderConfirmationPage(order: PaymentOrder, token: string, setupIntent?: string): string {
  const base = `/pay/${token}`;
  const config = {
    statusUrl: `${base}/status${setupIntent ? `?setupIntent=${encodeURIComponent(setupIntent)}` : ''}`,
    cardChange: order.kind === 'CARD',
  };
  if (order.kind === 'CARD')
    return layout(
      'Enregistrement de la carte',
      'done',
      `<section id="order"><h2>${esc(order.title)}</h2></section>
<section>
<p id="pending">Nous attendons la confirmation de votre banque… Cette page se met à jour toute seule.</p>
<p id="payment-message" class="message" role="status" aria-live="polite"></p>
<p id="licence-state" hidden></p>
<a id="invoice-link" class="button" hidden download>Télécharger la facture acquittée</a>
</section>`,
      `<script type="application/json" id="payment-config">${jsonForScript(config)}</script>
<script src="/pay/assets/payment-page.js"></script>`,
    );
  return layout(
    order.state === 'PAID' ? 'Paiement reçu' : 'Confirmation du paiement',
    'done',
    `${orderSection(order)}
<section>
<p id="pending">Nous attendons la confirmation de votre banque… Cette page se met à jour toute seule.</p>
<p id="payment-message" class="message" role="status" aria-live="polite"></p>
<p id="licence-state" hidden></p>
<a id="invoice-link" class="button" hidden download>Télécharger la facture acquittée</a>
</section>`,
    `<script type="application/json" id="payment-config">${jsonForScript(config)}</script>
<script src="/pay/assets/payment-page.js"></script>`,
  );
}

/** A link that can't be used (altered, expired, unknown order): said in words, with the HTTP status. */
export function renderLinkError(message: string): string {
  return layout(
    'Lien de paiement',
    'error',
    `<section><p class="message error">${esc(message)}</p><p>Relancez le paiement depuis Gestan : un nouveau lien vous sera proposé.</p></section>`,
  );
}
