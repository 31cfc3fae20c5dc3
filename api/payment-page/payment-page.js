/*
 * The payment page's script (no build step). Two pages share it:
 * - `data-page="pay"`: takes the card or the bank account (SEPA Direct Debit) and pays. It is turned into a
 *   PaymentMethod in the browser by Stripe.js (production: the Payment Element; development: localstripe's
 *   stand-in, whose card form — or the page's own IBAN form — is read here and posted to localstripe as
 *   Stripe.js would), then our server confirms the order's PaymentIntent with it, with the SEPA mandate's
 *   acceptance; 3-D Secure is then completed in the page (Stripe.js handleNextAction, or the stand-in's
 *   confirmCardPayment dialog). Either way the page ends on the confirmation page.
 * - `data-page="done"`: polls the API for the outcome recorded by the order's workflow and shows the paid
 *   invoice's download link.
 * The page's data comes in the JSON script `#payment-config`, written by the server.
 */
/* global window, document, fetch, URLSearchParams, FormData, crypto, setTimeout */
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('payment-config').textContent);
  var message = document.getElementById('payment-message');

  function say(text, kind) {
    message.textContent = text;
    message.className = 'message' + (kind ? ' ' + kind : '');
  }

  async function postJson(path, body) {
    var response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    var data = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) {
      var error = new Error((data.error && data.error.message) || 'Erreur ' + response.status);
      error.code = data.error && data.error.code;
      throw error;
    }
    return data;
  }

  /** Production: Stripe.js and the Payment Element (cards with 3-D Secure, wallets). */
  function stripeJsAdapter() {
    var stripe = window.Stripe(config.publishableKey, { locale: 'fr' });
    var elements = stripe.elements(
      config.mode === 'setup'
        ? { mode: 'setup', currency: config.currency, paymentMethodCreation: 'manual' }
        : {
            mode: 'payment',
            amount: config.amount,
            currency: config.currency,
            paymentMethodCreation: 'manual',
            ...(config.saveCard ? { setupFutureUsage: 'off_session' } : {}),
          },
    );
    // the SEPA mandate wording is the page's own (shown, accepted and kept), not the Element's
    elements.create('payment', { layout: 'tabs', terms: { sepaDebit: 'never' } }).mount('#card-element');
    return {
      async createPaymentMethod() {
        var submitted = await elements.submit();
        if (submitted.error) throw new Error(submitted.error.message);
        var result = await stripe.createPaymentMethod({ elements: elements });
        if (result.error) throw new Error(result.error.message);
        if (result.paymentMethod.type === 'sepa_debit') requireMandate();
        return result.paymentMethod.id;
      },
      async authenticate() {
        var result = await stripe.handleNextAction({ clientSecret: config.clientSecret });
        if (result.error) throw new Error(result.error.message);
        return (result.paymentIntent || result.setupIntent).status;
      },
    };
  }

  /** Development: localstripe's stand-in for Stripe.js (localstripe-v3.js). */
  function localstripeAdapter() {
    var stripe = window.Stripe(config.publishableKey);
    var card = stripe.elements().create('card');
    card.mount('#card-element');
    document.getElementById('card-element').classList.add('local');
    return {
      async createPaymentMethod() {
        var value = card.value && card.value.card;
        if (!value || !value.number) throw new Error('Saisissez le numéro de carte.');
        var body = new URLSearchParams({
          key: config.publishableKey,
          type: 'card',
          'card[number]': value.number.replace(/\s+/g, ''),
          'card[exp_month]': value.exp_month,
          'card[exp_year]': value.exp_year,
          'card[cvc]': value.cvc,
        });
        var response = await fetch(config.stripeApiOrigin + '/v1/payment_methods', {
          method: 'POST',
          body: body,
        });
        var data = await response.json().catch(function () {
          return {};
        });
        if (!response.ok || !data.id) {
          throw new Error(
            (data.error && data.error.message) || 'Carte refusée : vérifiez les informations saisies.',
          );
        }
        return data.id;
      },
      async createSepaPaymentMethod() {
        var iban = document.getElementById('sepa-iban').value.replace(/\s+/g, '').toUpperCase();
        if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) throw new Error('Saisissez un IBAN valide.');
        requireMandate();
        var body = new URLSearchParams({
          key: config.publishableKey,
          type: 'sepa_debit',
          'sepa_debit[iban]': iban,
          'billing_details[name]': document.getElementById('sepa-name').value.trim(),
          'billing_details[email]': document.getElementById('sepa-email').value.trim(),
        });
        var response = await fetch(config.stripeApiOrigin + '/v1/payment_methods', {
          method: 'POST',
          body: body,
        });
        var data = await response.json().catch(function () {
          return {};
        });
        if (!response.ok || !data.id) {
          throw new Error((data.error && data.error.message) || 'Compte refusé : vérifiez l’IBAN saisi.');
        }
        return data.id;
      },
      async authenticate() {
        if (config.mode === 'setup')
          throw new Error('Cette carte demande 3-D Secure : essayez-en une autre (paiement de test).');
        var result = await stripe.confirmCardPayment(config.clientSecret);
        if (result.error) throw new Error(result.error.message || 'Authentification refusée.');
        return result.paymentIntent.status;
      },
    };
  }

  /** A SEPA debit needs the mandate shown accepted (the page's checkbox). */
  function requireMandate() {
    var box = document.getElementById('mandate-accepted');
    if (!box || !box.checked) throw new Error('Acceptez le mandat de prélèvement SEPA pour continuer.');
  }

  function mandateAccepted() {
    var box = document.getElementById('mandate-accepted');
    return Boolean(box && box.checked);
  }

  function payPage() {
    var form = document.getElementById('payment-form');
    if (!form) return;
    if (typeof window.Stripe !== 'function') {
      say('Le module de paiement n’a pas pu être chargé. Rechargez la page.', 'error');
      return;
    }
    var adapter = config.local ? localstripeAdapter() : stripeJsAdapter();
    var button = document.getElementById('pay-button');
    var savedButton = document.getElementById('saved-card-button');
    var sepaForm = document.getElementById('sepa-form');
    var sepaButton = document.getElementById('sepa-button');
    var buttons = [button, savedButton, sepaButton].filter(Boolean);
    /** our server confirms the order with the card or account, then 3-D Secure in the page if the bank asks */
    async function pay(paymentMethodOf) {
      buttons.forEach(function (b) {
        b.disabled = true;
      });
      say(config.mode === 'setup' ? 'Enregistrement…' : 'Paiement en cours…');
      try {
        var paymentMethodId = await paymentMethodOf();
        var body = { paymentMethodId: paymentMethodId, mandateAccepted: mandateAccepted() };
        if (config.setupIntentId) body.setupIntentId = config.setupIntentId;
        var outcome = await postJson(config.confirmUrl, body);
        var status = outcome.status;
        if (status === 'requires_action') {
          say('Votre banque demande une confirmation (3-D Secure)…');
          status = await adapter.authenticate();
        }
        if (status === 'succeeded' || status === 'processing') {
          say(config.mode === 'setup' ? 'Carte acceptée…' : 'Paiement accepté. Confirmation en cours…', 'ok');
          window.location.assign(config.doneUrl);
          return;
        }
        throw new Error('Le paiement n’a pas abouti : essayez une autre carte.');
      } catch (error) {
        say(error.message, 'error');
        buttons.forEach(function (b) {
          b.disabled = false;
        });
      }
    }
    if (sepaForm)
      sepaForm.addEventListener('submit', function (event) {
        event.preventDefault();
        pay(adapter.createSepaPaymentMethod);
      });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      pay(adapter.createPaymentMethod);
    });
    if (savedButton)
      savedButton.addEventListener('click', function () {
        pay(async function () {
          return config.savedPaymentMethodId;
        });
      });
  }

  function donePage() {
    var invoice = document.getElementById('invoice-link');
    var licence = document.getElementById('licence-state');
    var started = Date.now();
    async function poll() {
      try {
        var response = await fetch(config.statusUrl, { headers: { accept: 'application/json' } });
        var outcome = await response.json();
        if (!response.ok)
          throw new Error((outcome.error && outcome.error.message) || 'Erreur ' + response.status);
        if (outcome.state === 'PAID' && config.cardChange) {
          say(
            outcome.mandate
              ? 'Votre mandat de prélèvement SEPA n° ' +
                  outcome.mandate.reference +
                  ' est enregistré : le compte ' +
                  outcome.mandate.account +
                  ' sera prélevé aux prochains renouvellements.'
              : 'Votre nouvelle carte est enregistrée : elle sera débitée aux prochains renouvellements.',
            'ok',
          );
          document.querySelector('h1').textContent = outcome.mandate
            ? 'Mandat enregistré'
            : 'Carte enregistrée';
          document.getElementById('pending').hidden = true;
          document.body.dataset.state = 'PAID';
          return;
        }
        if (outcome.state === 'PAID') {
          say('Paiement reçu. Merci !', 'ok');
          document.querySelector('h1').textContent = 'Paiement reçu';
          document.getElementById('pending').hidden = true;
          if (outcome.invoiceUrl) {
            invoice.href = outcome.invoiceUrl;
            invoice.textContent = 'Télécharger la facture acquittée n° ' + outcome.invoiceNumber;
            invoice.hidden = false;
          } else if (outcome.status === 'UNMATCHED') {
            invoice.textContent =
              'Nos équipes rattachent cet achat à votre compte client ; la facture sera disponible ici ensuite.';
            invoice.removeAttribute('href');
            invoice.className = 'note';
            invoice.hidden = false;
          } else if (outcome.receiptNumber) {
            invoice.textContent = 'Reçu n° ' + outcome.receiptNumber + ' (envoyé par e-mail)';
            invoice.removeAttribute('href');
            invoice.hidden = false;
          }
          if (outcome.licence && licence) {
            licence.textContent =
              outcome.licence.status === 'ACTIVE'
                ? 'Votre licence est active : vous pouvez revenir dans Gestan.'
                : 'État de la licence : ' + outcome.licence.status;
            licence.hidden = false;
          }
          document.body.dataset.state = 'PAID';
          return;
        }
        if (outcome.state === 'PROCESSING') {
          say(
            'Prélèvement SEPA enregistré' +
              (outcome.mandate
                ? ' (mandat n° ' + outcome.mandate.reference + ', compte ' + outcome.mandate.account + ')'
                : '') +
              '. Votre banque le règle sous quelques jours ouvrés : la licence est activée à ce moment-là et la facture acquittée vous est envoyée par e-mail.',
            'ok',
          );
          document.querySelector('h1').textContent = 'Prélèvement en cours';
          document.body.dataset.state = 'PROCESSING';
        }
        if (outcome.state === 'CLOSED') {
          say('Cette commande a été annulée ou a expiré sans paiement.', 'error');
          document.getElementById('pending').hidden = true;
          document.body.dataset.state = 'CLOSED';
          return;
        }
      } catch (error) {
        say(error.message, 'error');
      }
      // the webhook usually arrives within seconds (a SEPA debit: days); keep asking, less often after a minute
      setTimeout(poll, Date.now() - started < 60000 ? 1000 : 5000);
    }
    poll();
  }

  /** The public purchase page: the form becomes a credit purchase, then the browser goes to its payment URL. */
  function buyPage() {
    var form = document.getElementById('purchase-form');
    var button = document.getElementById('buy-button');
    // one key per set of answers: a retry of the same answers is the same purchase, new answers a new one
    var key = null;
    form.addEventListener('input', function () {
      key = null;
    });
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var text = function (name) {
        return String(data.get(name) || '').trim();
      };
      var choice = text('product');
      var product =
        choice === 'recharge'
          ? { kind: 'WALLET_RECHARGE', amountCents: Math.round(Number(text('rechargeEuros')) * 100) }
          : { kind: 'SUPPORT_PACK', minutes: Number(choice.split(':')[1]) };
      if (!choice) {
        say('Choisissez un pack ou une recharge.', 'error');
        return;
      }
      var billing = {
        companyName: text('companyName'),
        lastName: text('lastName'),
        firstName: text('firstName'),
        address: text('address'),
        postalCode: text('postalCode'),
        city: text('city'),
        country: text('country'),
        email: text('email'),
      };
      if (text('vatNumber')) billing.vatNumber = text('vatNumber');
      key = key || 'web-' + crypto.randomUUID();
      var body = { idempotencyKey: key, product: product, billing: billing };
      if (text('accountId')) body.claimedAccountId = Number(text('accountId'));
      button.disabled = true;
      say('Enregistrement de votre achat…');
      try {
        var purchase = await postJson(config.purchaseUrl, body);
        window.location.assign(purchase.payment.paymentUrl);
      } catch (error) {
        say(
          error.code === 'VAT_CONTACT_REQUIRED'
            ? 'Votre entreprise n’est pas soumise à la TVA française : contactez-nous pour cet achat.'
            : error.code === 'VALIDATION_FAILED'
              ? 'Vérifiez les champs du formulaire.'
              : error.message,
          'error',
        );
        button.disabled = false;
      }
    });
  }

  if (document.body.dataset.page === 'pay') payPage();
  else if (document.body.dataset.page === 'buy') buyPage();
  else donePage();
})();
