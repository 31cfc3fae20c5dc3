/** Emails about a licence, to the billing address given at purchase. French, like the product. */
import { maskedIban } from '../domain/sepa-mandate';
import type { LocalDate } from '../domain/periods';
import { addDays } from '../domain/periods';
import type { OutgoingMail } from '../infra/mailer';
import { customerMail, invoiceLine } from './email-templates';
import type { Db } from '../infra/prisma';
import { billingDetailsSchema } from '../domain/billing-party';
import { cardChangeUrl, renewalPaymentUrl, type EmailLinkSettings } from '../services/payments/payment-link';
import { formatEurosFr } from '../domain/invoice';
import type { OfflinePayee } from '../domain/licence';

export type LicenceMailKind =
  | 'ACTIVATED'
  | 'RENEWED'
  | 'RENEWAL_REMINDER'
  | 'END_REMINDER'
  | 'PAYMENT_FAILED'
  /** a renewal the bank wants the customer to authenticate (3-D Secure); the licence stays usable */
  | 'PAYMENT_ACTION_REQUIRED'
  | 'ENDED'
  | 'SUSPENDED'
  | 'PAYMENT_REMINDER'
  | 'PURCHASE_CANCELLED'
  | 'PURCHASE_REJECTED'
  /** cheque/transfer renewal: the invoice to pay before the period end, and its reminders */
  | 'RENEWAL_INVOICE_TO_PAY'
  | 'RENEWAL_PAYMENT_REMINDER';

export interface LicenceMailFacts {
  kind: LicenceMailKind;
  invoiceNumber?: string | null;
  periodEnd?: LocalDate;
  nextAttemptOn?: LocalDate;
  reason?: string;
  /** PAYMENT_ACTION_REQUIRED: the PaymentIntent the customer confirms (its client secret is read from Stripe) */
  paymentIntentId?: string;
  /** RENEWAL_REMINDER: the saved card expires before the renewal (`MM/YYYY`) */
  cardExpiresBeforeRenewal?: string;
  /** RENEWAL_INVOICE_TO_PAY / RENEWAL_PAYMENT_REMINDER: the amount including VAT, its due date, the payee */
  amountCents?: number;
  dueOn?: LocalDate;
  payee?: OfflinePayee;
}

/** What to pay, by when, and where (bank account for a transfer, payee and address for a cheque). */
function toPay(facts: LicenceMailFacts, licenceId: string): string {
  const p = facts.payee;
  const amount = `${formatEurosFr(facts.amountCents ?? 0)} TTC`;
  return [
    `Montant : ${amount}, à régler au plus tard le ${facts.dueOn ?? ''}.`,
    `Par virement : IBAN ${p?.iban ?? ''}, BIC ${p?.bic ?? ''}, référence ${licenceId}.`,
    `Par chèque : à l'ordre de ${p?.chequePayee ?? ''}, à envoyer au ${p?.chequeAddress ?? ''}, en indiquant la référence ${licenceId} au dos.`,
    `La facture acquittée vous est envoyée à réception du paiement.`,
  ].join('\n');
}

/** the mails that offer to change the saved card (or to start renewing by card) */
const CARD_CHANGE_KINDS: ReadonlySet<LicenceMailKind> = new Set([
  'RENEWAL_REMINDER',
  'END_REMINDER',
  'PAYMENT_FAILED',
  'PAYMENT_ACTION_REQUIRED',
]);

const lastDay = (end?: LocalDate) => (end ? addDays(end, -1) : '');

/**
 * A licence mail. With `links` (every worker; some tests have none), the mails that need the customer carry
 * signed links to the payment page: the renewal to authenticate, the page changing the saved card.
 */
export async function licenceMail(
  db: Db,
  licenceId: string,
  facts: LicenceMailFacts,
  links?: EmailLinkSettings,
): Promise<OutgoingMail> {
  const licence = await db.licence.findUniqueOrThrow({ where: { id: licenceId } });
  // only the address: a licence migrated from v15 may have no full billing details
  const to = billingDetailsSchema.pick({ email: true }).parse(licence.billing).email;
  const what = `licence ${licence.edition} ${licence.mode} (${licence.connections} connexion${licence.connections > 1 ? 's' : ''}) de la base ${licence.baseId}`;
  const invoice = facts.invoiceNumber ? `\n${invoiceLine(facts.invoiceNumber)}` : '';
  const texts: Record<LicenceMailKind, [string, string]> = {
    ACTIVATED: [
      'Votre licence est active',
      `Votre ${what} est active jusqu'au ${lastDay(facts.periodEnd)} inclus.${invoice}`,
    ],
    RENEWED: [
      'Votre licence est renouvelée',
      `Votre ${what} est renouvelée jusqu'au ${lastDay(facts.periodEnd)} inclus.${invoice}`,
    ],
    RENEWAL_REMINDER: [
      'Renouvellement prochain de votre licence',
      `Votre ${what} sera renouvelée automatiquement le ${facts.periodEnd} avec le moyen de paiement enregistré${facts.amountCents !== undefined ? `, pour ${formatEurosFr(facts.amountCents)} TTC (tarif en vigueur ce jour)` : ''}.`,
    ],
    END_REMINDER: [
      'Votre licence arrive à échéance',
      `Votre ${what} prendra fin le ${lastDay(facts.periodEnd)} au soir (renouvellement automatique arrêté). Vous pouvez la renouveler à tout moment.`,
    ],
    PAYMENT_FAILED: [
      'Échec du paiement de votre licence',
      `Le paiement du renouvellement de votre ${what} a échoué (${facts.reason ?? 'refus'}). Nous réessaierons le ${facts.nextAttemptOn ?? ''}; votre licence reste utilisable d'ici là. Vous pouvez aussi mettre à jour votre moyen de paiement.`,
    ],
    // the link to the payment page comes with that page (the PaymentIntent is named in the mail's facts)
    PAYMENT_ACTION_REQUIRED: [
      'Confirmez le paiement de votre licence',
      `Votre banque demande que vous confirmiez le paiement du renouvellement de votre ${what}. Votre licence reste utilisable d'ici là; sans confirmation, nous réessaierons le ${facts.nextAttemptOn ?? ''}.`,
    ],
    ENDED: [
      'Votre licence a pris fin',
      `Votre ${what} a pris fin. La base fonctionne désormais en STANDARD LOCAL (gratuit).`,
    ],
    SUSPENDED: [
      'Votre accès CLOUD est suspendu',
      `Faute de paiement, l'accès CLOUD de votre ${what} est suspendu. Renouvelez votre licence pour le rétablir.`,
    ],
    PAYMENT_REMINDER: [
      'Paiement de votre licence en attente',
      `Nous n'avons pas encore reçu votre paiement pour la ${what}. Sans paiement, la commande sera annulée.`,
    ],
    PURCHASE_CANCELLED: [
      'Commande de licence annulée',
      `Votre commande de ${what} est annulée : ${facts.reason ?? ''}.`,
    ],
    RENEWAL_INVOICE_TO_PAY: [
      'Facture à régler pour le renouvellement de votre licence',
      `Votre ${what} sera renouvelée jusqu'au ${lastDay(facts.periodEnd)} inclus à réception de votre paiement.\n${toPay(facts, licenceId)}`,
    ],
    RENEWAL_PAYMENT_REMINDER: [
      'Rappel : renouvellement de votre licence à régler',
      `Nous n'avons pas encore reçu le paiement du renouvellement de votre ${what}. Sans paiement à l'échéance, la licence prendra fin.\n${toPay(facts, licenceId)}`,
    ],
    PURCHASE_REJECTED: [
      'Demande de licence refusée',
      `Votre demande de ${what} est refusée : ${facts.reason ?? ''}.`,
    ],
  };
  const [subject, body] = texts[facts.kind];
  const blocks = [body];
  if (facts.kind === 'RENEWAL_REMINDER' && facts.cardExpiresBeforeRenewal)
    blocks.push(
      `Votre carte enregistrée expire (${facts.cardExpiresBeforeRenewal}) avant cette date : enregistrez une nouvelle carte pour que le renouvellement aboutisse.`,
    );
  if (facts.kind === 'RENEWAL_REMINDER' || facts.kind === 'PAYMENT_FAILED') {
    // the SEPA debit's notice: which mandate and account the renewal is debited under (docs/sepa.md)
    const mandate = await db.sepaMandate.findFirst({
      where: { licenceId, status: 'ACTIVE', paymentMethodId: licence.stripePaymentMethodId ?? '' },
    });
    if (mandate)
      blocks.push(
        `Prélèvement SEPA sur le compte ${maskedIban(mandate.country, mandate.ibanLast4)} (${mandate.holderName}), mandat n° ${mandate.reference}${facts.kind === 'RENEWAL_REMINDER' ? `, à partir du ${facts.periodEnd ?? ''}` : ''}.`,
      );
  }
  if (links && facts.kind === 'PAYMENT_ACTION_REQUIRED' && facts.paymentIntentId)
    blocks.push(
      `Confirmer le paiement (3-D Secure) : ${renewalPaymentUrl(links, licenceId, facts.paymentIntentId)}`,
    );
  if (links && CARD_CHANGE_KINDS.has(facts.kind))
    blocks.push(
      `${facts.kind === 'END_REMINDER' ? 'Renouveler automatiquement par carte bancaire ou prélèvement SEPA' : 'Changer de moyen de paiement (carte bancaire ou prélèvement SEPA)'} : ${cardChangeUrl(links, licenceId)}`,
    );
  return customerMail(to, subject, blocks);
}
