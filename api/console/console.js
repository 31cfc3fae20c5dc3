// Ops console: a static page over the ops API. The ops token stays in this tab (sessionStorage).
/* global document, sessionStorage, fetch, Node, crypto */
'use strict';
(function () {
  const TOKEN_KEY = 'opsToken';
  const $ = (id) => document.getElementById(id);
  const euros = (cents) => (cents / 100).toLocaleString('fr-FR', { style: 'currency', currency: 'EUR' });
  const day = (iso) => (iso ? iso.slice(0, 10) : '');

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'onclick') node.addEventListener('click', v);
      else if (k === 'className') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
    return node;
  }

  function say(text, kind) {
    const box = $('message');
    box.textContent = text;
    box.className = kind || '';
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: {
        authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      show();
      throw new Error((data && data.error && data.error.message) || 'Not allowed');
    }
    if (!res.ok)
      throw new Error((data && data.error && `${data.error.code}: ${data.error.message}`) || res.statusText);
    return data;
  }

  function reason() {
    const value = $('reason').value.trim();
    if (value.length < 3) {
      $('reason').focus();
      throw new Error('Give a reason (kept in the audit log) before acting');
    }
    return value;
  }

  async function act(work) {
    try {
      const text = await work();
      say(text, 'ok');
      await load();
    } catch (error) {
      say(error.message, 'error');
    }
  }

  function fill(table, countId, rows, render, columns) {
    const body = $(table).querySelector('tbody');
    body.replaceChildren();
    $(countId).textContent = `(${rows.length})`;
    if (rows.length === 0)
      body.append(el('tr', {}, el('td', { colspan: columns, className: 'empty' }, 'Nothing waiting')));
    for (const row of rows) body.append(render(row));
  }

  function failedRow(p) {
    const action = p.replayable
      ? el(
          'button',
          {
            'data-action': 'replay',
            onclick: () =>
              act(async () => {
                const r = await api('POST', `/ops/payments/${p.id}/replay`, { reason: reason() });
                return `Base ${r.baseId}: ${r.outcome} — ${r.message}`;
              }),
          },
          'Replay',
        )
      : el('span', { className: 'hint' }, 'buyer pays again');
    return el(
      'tr',
      { 'data-id': p.id },
      el('td', {}, p.baseId ?? ''),
      el('td', {}, p.accountId ?? ''),
      el('td', {}, p.holderName ?? ''),
      el('td', {}, p.kind),
      el('td', { className: 'num' }, euros(p.amountCents)),
      el('td', { className: 'num' }, p.attempts),
      el('td', {}, p.lastError ?? ''),
      el('td', {}, p.nextRetryOn ?? ''),
      el('td', {}, p.status),
      el('td', {}, action),
    );
  }

  function unmatchedRow(p) {
    const account = el('input', {
      className: 'account',
      type: 'number',
      min: '1',
      placeholder: 'account',
      'aria-label': 'account id',
    });
    if (p.claimedAccountId) account.value = String(p.claimedAccountId);
    const assign = el(
      'button',
      {
        'data-action': 'assign',
        onclick: () =>
          act(async () => {
            const accountId = Number(account.value);
            if (!Number.isInteger(accountId) || accountId < 1)
              throw new Error('Give the account id to credit');
            const r = await api('POST', `/ops/purchases/${p.purchaseId}/assign`, { accountId });
            return `Purchase no. ${r.number} credited to account ${r.accountId}`;
          }),
      },
      'Assign',
    );
    const buyer = p.buyer || {};
    const product = p.product === 'SUPPORT_PACK' ? `support ${p.packMinutes} min` : 'wallet';
    return el(
      'tr',
      { 'data-id': p.purchaseId },
      el('td', {}, p.number),
      el('td', {}, [buyer.companyName, buyer.email].filter(Boolean).join(' — ')),
      el('td', {}, product),
      el('td', { className: 'num' }, euros(p.amountCents)),
      el('td', {}, p.claimedAccountId ?? ''),
      el('td', {}, day(p.paidAt)),
      el('td', {}, account, ' ', assign),
    );
  }

  function manualRow(p) {
    const reference = el('input', {
      className: 'reference',
      placeholder: 'cheque/transfer ref.',
      'aria-label': 'reference',
    });
    const confirm = el(
      'button',
      {
        'data-action': 'confirm',
        onclick: () =>
          act(async () => {
            if (!reference.value.trim()) throw new Error('Give the cheque number or transfer reference');
            const r = await api('POST', `/ops/manual-payments/${p.purchaseId}/confirm`, {
              reference: reference.value.trim(),
            });
            return `Base ${r.baseId}: payment confirmed, licence ${r.licenceStatus}`;
          }),
      },
      'Confirm',
    );
    const cancel = el(
      'button',
      {
        'data-action': 'cancel',
        onclick: () =>
          act(async () => {
            const r = await api('POST', `/ops/manual-payments/${p.purchaseId}/cancel`, { reason: reason() });
            return `Base ${r.baseId}: purchase ${r.status}`;
          }),
      },
      'Cancel',
    );
    return el(
      'tr',
      { 'data-id': p.purchaseId },
      el('td', {}, p.baseId),
      el('td', {}, p.holderName ?? ''),
      el('td', {}, p.paymentMethod),
      el('td', {}, `${p.edition} ${p.mode} ×${p.connections} ${p.period}`),
      el('td', { className: 'num' }, euros(p.totalInclVatCents)),
      el('td', {}, p.deadlineOn ?? ''),
      el('td', {}, reference, ' ', confirm, ' ', cancel),
    );
  }

  function toPayRow(r) {
    const reference = el('input', {
      className: 'reference',
      placeholder: 'cheque/transfer ref.',
      'aria-label': 'reference',
    });
    const confirm = el(
      'button',
      {
        'data-action': 'confirm-renewal',
        onclick: () =>
          act(async () => {
            if (!reference.value.trim()) throw new Error('Give the cheque number or transfer reference');
            const reasonGiven = $('reason').value.trim();
            const s = await api('POST', `/ops/bases/${r.baseId}/renewal-payment`, {
              reference: reference.value.trim(),
              ...(reasonGiven.length >= 3 ? { reason: reasonGiven } : {}),
            });
            return `Base ${s.baseId}: renewal paid, licence ${s.status} until ${s.paidUntil}`;
          }),
      },
      'Confirm',
    );
    const lastDay = new Date(Date.parse(r.periodEnd) - 86400000).toISOString().slice(0, 10);
    return el(
      'tr',
      { 'data-id': r.baseId },
      el('td', {}, r.baseId),
      el('td', {}, r.holderName),
      el('td', {}, r.paymentMethod),
      el('td', { className: 'num' }, euros(r.amountCents)),
      el('td', {}, `${r.periodStart} → ${lastDay}`),
      el('td', {}, r.dueOn),
      el('td', { className: 'num' }, r.remindersSent),
      el('td', {}, `${day(r.issuedAt)}${r.origin === 'RENEW_NOW' ? ' (renew now)' : ''}`),
      el('td', {}, reference, ' ', confirm),
    );
  }

  function disputeRow(d) {
    // a chargeback leaves the queue with Stripe's outcome; ops answer it in Stripe's dashboard by the deadline
    const action =
      d.kind === 'EARLY_FRAUD_WARNING'
        ? el(
            'button',
            {
              'data-action': 'acknowledge',
              onclick: () =>
                act(async () => {
                  const r = await api('POST', `/ops/disputes/${d.id}/acknowledge`, { reason: reason() });
                  return `Warning ${r.stripeId}: ${r.outcome}`;
                }),
            },
            'Acknowledge',
          )
        : el('span', { className: 'hint' }, 'evidence in Stripe');
    return el(
      'tr',
      { 'data-id': d.id },
      el('td', {}, d.kind === 'DISPUTE' ? 'dispute' : 'fraud warning'),
      el('td', {}, d.baseId ?? ''),
      el('td', {}, d.accountId ?? ''),
      el('td', { className: 'num' }, euros(d.amountCents)),
      el('td', {}, d.reason ?? ''),
      el('td', {}, d.stripeStatus),
      el('td', {}, d.evidenceDueBy ? day(d.evidenceDueBy) : ''),
      el('td', {}, day(d.openedAt)),
      el('td', {}, action),
    );
  }

  function promoRow(c) {
    const deactivate = el(
      'button',
      {
        'data-action': 'deactivate',
        onclick: () =>
          act(async () => {
            const r = await api('POST', `/ops/promo-codes/${encodeURIComponent(c.code)}/deactivation`);
            return `Promo code ${r.code} deactivated`;
          }),
      },
      'Deactivate',
    );
    const discount =
      c.kind === 'PERCENT' ? `${c.percentBasisPoints / 100} %` : `${euros(c.amountOffCents)} excl. VAT`;
    const duration = c.duration === 'REPEATING' ? `${c.durationPeriods} periods` : c.duration;
    return el(
      'tr',
      { 'data-id': c.code },
      el('td', {}, c.code),
      el('td', {}, discount),
      el('td', {}, duration),
      el('td', {}, day(c.validUntil)),
      el(
        'td',
        { className: 'num' },
        `${c.redemptionCount}${c.maxRedemptions ? ` / ${c.maxRedemptions}` : ''}`,
      ),
      el('td', {}, deactivate),
    );
  }

  async function load() {
    const [failed, unmatched, manual, toPay, disputes, promo] = await Promise.all([
      api('GET', '/ops/payments/failed'),
      api('GET', '/ops/purchases/unmatched'),
      api('GET', '/ops/manual-payments'),
      api('GET', '/ops/renewals-to-pay'),
      api('GET', '/ops/disputes'),
      api('GET', '/ops/promo-codes?active=true'),
    ]);
    fill('failed', 'failed-count', failed, failedRow, 10);
    fill('unmatched', 'unmatched-count', unmatched, unmatchedRow, 7);
    fill('manual', 'manual-count', manual, manualRow, 7);
    fill('to-pay', 'to-pay-count', toPay, toPayRow, 9);
    fill('disputes', 'disputes-count', disputes, disputeRow, 9);
    fill('promo', 'promo-count', promo, promoRow, 6);
    document.body.dataset.loaded = String(Date.now());
  }

  function show() {
    const signedIn = Boolean(sessionStorage.getItem(TOKEN_KEY));
    $('login').hidden = signedIn;
    $('console').hidden = !signedIn;
    $('who').textContent = signedIn ? 'signed in' : '';
    if (signedIn) load().catch((error) => say(error.message, 'error'));
  }

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    show();
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    say('');
    show();
  });
  // ---- refunds: one key per refund asked, so a click repeated after an error never refunds twice
  // (a new key when the purchase or the amount changes)
  const newKey = () =>
    typeof crypto.randomUUID === 'function'
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  let refundKey = newKey();
  for (const field of ['refund-purchase', 'refund-amount'])
    $(field).addEventListener('input', () => (refundKey = newKey()));
  async function lookupRefunds() {
    const id = $('refund-purchase').value.trim();
    if (!id) throw new Error('Give the credit purchase id');
    const r = await api('GET', `/ops/credit-purchases/${id}/refunds`);
    $('refund-summary').textContent =
      `Purchase no. ${r.number} (${r.product === 'SUPPORT_PACK' ? 'support pack' : 'wallet'}, ${r.status}): ` +
      `paid ${euros(r.amountCents)}, ${euros(r.refundableCents)} can still be refunded`;
    const body = $('refunds').querySelector('tbody');
    body.replaceChildren(
      ...r.refunds.map((x) =>
        el(
          'tr',
          { 'data-id': x.refundId },
          el('td', {}, x.refundId.slice(0, 8)),
          el('td', {}, x.status),
          el('td', { className: 'num' }, euros(x.amountCents)),
          el('td', { className: 'num' }, x.debitedCredit),
          el('td', {}, x.creditNoteNumber ?? '(receipt)'),
          el('td', {}, x.providerRefundId ?? ''),
          el('td', {}, x.reason),
          el('td', {}, day(x.createdAt)),
        ),
      ),
    );
    return r;
  }
  $('refund-lookup').addEventListener('click', () =>
    act(async () => {
      const r = await lookupRefunds();
      return `Purchase no. ${r.number}: ${r.refunds.length} refund(s)`;
    }),
  );
  $('refund-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const id = $('refund-purchase').value.trim();
      const amountCents = Number($('refund-amount').value);
      if (!Number.isInteger(amountCents) || amountCents < 1) throw new Error('Give the amount in cents');
      const r = await api('POST', `/ops/credit-purchases/${id}/refunds`, {
        amountCents,
        reason: reason(),
        idempotencyKey: `console-${refundKey}`,
      });
      refundKey = newKey();
      await lookupRefunds();
      return `Refunded ${euros(r.amountCents)}: credit note ${r.creditNoteNumber ?? '(none: receipt)'}, ${r.status}`;
    });
  });
  $('refresh').addEventListener('click', () =>
    act(async () => {
      await load();
      return 'Refreshed';
    }),
  );
  show();
})();
