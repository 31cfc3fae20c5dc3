/**
 * Customer emails read as mails, not developer output: French, a plain-text and an HTML part with the
 * same content, no code in the subject, no API path anywhere.
 */
import fc from 'fast-check';
import { codeMail, customerMail } from '../../activities/email-templates';
import { consumptionInvoiceMail, unpaidAppFeesMail } from '../../activities/consumption-mails';
import type { ChallengePurpose } from '../../domain/email-code';

const purposes: ChallengePurpose[] = [
  'ACCOUNT_CONFIRMATION',
  'MACHINE_LINK',
  'INSTALLATION_CLAIM',
  'PASSWORD_RESET',
];

it('a code mail: the code in both parts, never in the subject; French', () => {
  for (const purpose of purposes) {
    const mail = codeMail(purpose, 'jean@example.fr', '042917', 1800);
    expect(mail.subject).not.toMatch(/\d{6}/);
    expect(mail.text).toContain('042917');
    expect(mail.html).toContain('042917');
    expect(mail.text).toMatch(/^Bonjour,/);
    expect(mail.text).toContain('Ce code est valable 30 minutes');
    expect(mail.html).toMatch(/^<!doctype html>\n<html lang="fr">/);
  }
});

it('the HTML part escapes what the text says', () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const mail = customerMail('a@example.fr', 'Sujet', [text]);
      const body = mail.html!.slice(mail.html!.indexOf('<body'));
      expect(body).not.toMatch(/<(?!\/?(p|br|body|html)\b)[a-z]/i);
    }),
  );
  const mail = customerMail('a@example.fr', 'Sujet', ['<script>alert(1)</script> & "x"']);
  expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
});

it('monthly wallet mails name no API route', () => {
  const invoice = consumptionInvoiceMail('a@example.fr', {
    accountId: 7,
    month: '2026-02',
    invoiceNumber: '2026-000042',
    totalInclVatCents: 2020,
    chargesCount: 3,
  });
  const fees = unpaidAppFeesMail('a@example.fr', {
    accountId: 7,
    fees: [{ label: 'Module Paie', month: '2026-02', amountCents: 1500 }],
    balanceCents: 200,
    overdraftLimitCents: 0,
  });
  for (const mail of [invoice, fees]) {
    expect(`${mail.subject}\n${mail.text}\n${mail.html}`).not.toMatch(/(GET|POST|PUT) \//);
    expect(mail.html).toBeDefined();
  }
  expect(invoice.text).toContain('n° 2026-000042 est disponible dans Gestan');
});
