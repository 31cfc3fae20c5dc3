/**
 * The SEPA Direct Debit mandate the payment page shows before a first debit or a change of payment method
 * (docs/sepa.md). Stripe collects the debits, so the mandate authorises the seller and Stripe, as Stripe's
 * own wording does; the text shown is kept verbatim with its version on the mandate's row.
 */

export const SEPA_MANDATE_TEXT_VERSION = 'sepa-fr-2026-12';

export function sepaMandateText(sellerName: string): string {
  return (
    `En fournissant vos coordonnées bancaires et en confirmant ce paiement, vous autorisez (A) ${sellerName} ` +
    'et Stripe, notre prestataire de services de paiement, à envoyer des instructions à votre banque pour ' +
    'débiter votre compte, et (B) votre banque à débiter votre compte conformément à ces instructions, pour ' +
    'ce paiement et les renouvellements de votre licence. Vous bénéficiez du droit d’être remboursé par ' +
    'votre banque selon les conditions décrites dans la convention que vous avez passée avec elle ; une ' +
    'demande de remboursement doit être présentée dans les 8 semaines suivant la date de débit de votre ' +
    'compte. Vous acceptez de recevoir la notification des prélèvements à venir au moins 2 jours avant ' +
    'leur date.'
  );
}

/** What the page and the mails print of a bank account: never more than its country and last 4 digits. */
export function maskedIban(country: string, last4: string): string {
  return `${country}•• •••• •••• ${last4}`;
}
