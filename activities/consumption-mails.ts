/** Emails of the monthly wallet run: the consumption invoice, and monthly app fees left unpaid. French. */
import { monthLabelFr } from '../domain/consumption-invoice';
import { formatEurosFr } from '../domain/invoice';
import { formatEuros } from '../domain/money';
import type { OutgoingMail } from '../infra/mailer';
import { customerMail, invoiceLine } from './email-templates';

export function consumptionInvoiceMail(
  to: string,
  facts: {
    accountId: number;
    month: string;
    invoiceNumber: string;
    totalInclVatCents: number;
    chargesCount: number;
  },
): OutgoingMail {
  return customerMail(to, `Votre facture de consommation de crédits — ${monthLabelFr(facts.month)}`, [
    [
      `Voici la facture de vos crédits consommés en ${monthLabelFr(facts.month)} (compte client n° ${facts.accountId}) : ${facts.chargesCount} mouvement${facts.chargesCount > 1 ? 's' : ''}, ${formatEurosFr(facts.totalInclVatCents)} TTC.`,
      'Elle est acquittée : vos crédits, achetés d’avance, ont servi à la régler. Les crédits sont un bon à usages multiples, la TVA est donc facturée lors de leur consommation.',
      invoiceLine(facts.invoiceNumber),
    ].join('\n'),
  ]);
}

export interface UnpaidFeeFacts {
  label: string;
  month: string;
  amountCents: number;
}

/**
 * "Recharge your credits": the fees the wallet could not pay, what is missing, and what happens next. The
 * amount missing is what the fees need beyond the balance and the overdraft allowed.
 */
export function unpaidAppFeesMail(
  to: string,
  facts: { accountId: number; fees: UnpaidFeeFacts[]; balanceCents: number; overdraftLimitCents: number },
): OutgoingMail {
  const due = facts.fees.reduce((sum, f) => sum + f.amountCents, 0);
  const missing = Math.max(0, due - facts.balanceCents - facts.overdraftLimitCents);
  return customerMail(to, 'Rechargez vos crédits : frais mensuels impayés', [
    [
      `Vos crédits ne suffisent pas à régler les frais mensuels suivants (compte client n° ${facts.accountId}) :`,
      ...facts.fees.map((f) => `- ${f.label}, ${monthLabelFr(f.month)} : ${formatEurosFr(f.amountCents)}`),
      '',
      `Total dû : ${formatEurosFr(due)}. Crédits disponibles : ${formatEuros(facts.balanceCents)}.`,
      `Montant manquant : ${formatEurosFr(missing)}.`,
      '',
      'Rechargez vos crédits dans le logiciel : Système → Crédits → Recharger les crédits.',
      'Les frais impayés seront prélevés sur vos crédits dès la recharge, et au plus tard lors du prochain passage mensuel ; aucun mois n’est prélevé deux fois.',
    ].join('\n'),
  ]);
}
