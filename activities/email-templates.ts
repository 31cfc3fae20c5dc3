/**
 * How customer emails are written, and the texts of those that carry a code. The product's customers are
 * French: mails are in French, with a plain-text and an HTML part of the same content. A code never goes in
 * the subject (subjects show on lock screens and in notification previews).
 */
import type { ChallengePurpose } from '../domain/email-code';
import type { OutgoingMail } from '../infra/mailer';

/** A paragraph of a customer mail: text, or a code shown on its own line. */
export type MailBlock = string | { code: string };

const SIGNATURE = "L'équipe Gestan";

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Text and HTML parts from the same blocks: greeting, the blocks, the signature. */
export function customerMail(to: string, subject: string, blocks: MailBlock[]): OutgoingMail {
  const all: MailBlock[] = ['Bonjour,', ...blocks.filter((b) => b !== ''), SIGNATURE];
  const text = all.map((b) => (typeof b === 'string' ? b : `    ${b.code}`)).join('\n\n');
  const html = [
    '<!doctype html>',
    `<html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; color: #222">',
    ...all.map((b) =>
      typeof b === 'string'
        ? `<p>${escapeHtml(b).replace(/\n/g, '<br>')}</p>`
        : `<p style="font-size: 28px; font-weight: bold; letter-spacing: 6px; font-family: monospace">${escapeHtml(b.code)}</p>`,
    ),
    '</body></html>',
  ].join('\n');
  return { to, subject, text, html };
}

const subjects: Record<ChallengePurpose, string> = {
  ACCOUNT_CONFIRMATION: 'Confirmez votre compte client',
  MACHINE_LINK: 'Code de rattachement de votre poste à votre compte',
  INSTALLATION_CLAIM: "Code d'enregistrement d'un nouveau poste",
  PASSWORD_RESET: 'Réinitialisation de votre mot de passe',
};

const intros: Record<ChallengePurpose, string> = {
  ACCOUNT_CONFIRMATION: 'Pour confirmer la création de votre compte client, saisissez ce code dans Gestan :',
  MACHINE_LINK: 'Pour rattacher un poste à votre compte client, saisissez ce code sur ce poste :',
  INSTALLATION_CLAIM:
    'Un nouveau poste demande à être enregistré sur une de vos bases. Pour l’autoriser, saisissez ce code sur ce poste :',
  PASSWORD_RESET: 'Pour choisir un nouveau mot de passe, saisissez ce code dans Gestan :',
};

export function codeMail(
  purpose: ChallengePurpose,
  to: string,
  code: string,
  ttlSeconds: number,
): OutgoingMail {
  const minutes = Math.round(ttlSeconds / 60);
  return customerMail(to, subjects[purpose], [
    intros[purpose],
    { code },
    `Ce code est valable ${minutes} minute${minutes > 1 ? 's' : ''} et remplace tout code envoyé précédemment.\n` +
      "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.",
  ]);
}

/** Where a customer finds an invoice: in Gestan, which lists the invoices of the base and of the account. */
export function invoiceLine(invoiceNumber: string): string {
  return `Votre facture acquittée n° ${invoiceNumber} est disponible dans Gestan, avec vos autres factures.`;
}
