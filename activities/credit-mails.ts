/** Emails about support time and credits: purchases, the manual-credit queue, support call reports. French. */
import { DEDUCTION_LABELS, formatDuration, supportCallDeduction } from '../domain/credits';
import { formatDateFr, formatEurosFr } from '../domain/invoice';
import type { OutgoingMail } from '../infra/mailer';
import { customerMail, invoiceLine } from './email-templates';
import type { CreditPurchase, SupportCall } from '../generated/prisma/client';
import { formatEuros } from '../domain/money';

export type CreditPurchaseMailKind = 'COMPLETED' | 'UNMATCHED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';

const day = (d: Date) => formatDateFr(d.toISOString().slice(0, 10));

export function productLabel(p: Pick<CreditPurchase, 'product' | 'packMinutes' | 'creditAmount'>): string {
  return p.product === 'SUPPORT_PACK'
    ? `crédit-temps support de ${p.packMinutes ?? p.creditAmount / 60} minutes`
    : `recharge de ${formatEuros(p.creditAmount)} crédits`;
}

/** What the account holds after a credit, for the mails. */
export interface BalanceFacts {
  accountId: number;
  balance: number;
}

function balanceLine(p: Pick<CreditPurchase, 'product'>, b: BalanceFacts): string {
  return p.product === 'SUPPORT_PACK'
    ? `Crédit-temps disponible sur le compte client n° ${b.accountId} : ${formatDuration(b.balance)}.`
    : `Crédits disponibles sur le compte client n° ${b.accountId} : ${formatEuros(b.balance)}.`;
}

function documentLine(p: CreditPurchase): string {
  if (p.invoiceNumber) return invoiceLine(p.invoiceNumber);
  if (p.receiptNumber)
    return [
      `Reçu n° ${p.receiptNumber} : ${formatEurosFr(p.amountCents)} reçus le ${day(p.paidAt ?? p.updatedAt)}, ${formatEuros(p.creditAmount)} crédits (1 crédit = 1 €).`,
      'Les crédits sont un bon à usages multiples : la TVA est facturée lors de leur consommation (facture mensuelle de consommation), pas à la recharge.',
    ].join('\n');
  return '';
}

export function creditPurchaseMail(
  kind: CreditPurchaseMailKind,
  p: CreditPurchase,
  facts: { balance?: BalanceFacts; reason?: string; contactEmail: string },
): OutgoingMail {
  const what = productLabel(p);
  const to = (p.billing as { email: string }).email;
  const texts: Record<CreditPurchaseMailKind, [string, string]> = {
    COMPLETED: [
      p.product === 'SUPPORT_PACK' ? 'Votre crédit-temps est disponible' : 'Vos crédits sont disponibles',
      [
        `Votre achat n° ${p.number} (${what}, ${formatEurosFr(p.amountCents)}) est payé et crédité.`,
        facts.balance ? balanceLine(p, facts.balance) : '',
        documentLine(p),
      ]
        .filter(Boolean)
        .join('\n'),
    ],
    UNMATCHED: [
      'Paiement reçu : crédit de votre compte en attente',
      [
        `Nous avons bien reçu votre paiement de ${formatEurosFr(p.amountCents)} pour l'achat n° ${p.number} (${what}).`,
        "Cet achat n'est rattaché à aucun compte client : nos services vont créditer manuellement votre compte.",
        `Indiquez-nous votre numéro de compte client par mail à ${facts.contactEmail} (ou par téléphone) en rappelant l'achat n° ${p.number}.`,
        'Vous recevrez un message dès que le crédit sera ajouté.',
      ].join('\n'),
    ],
    EXPIRED: [
      'Achat non finalisé',
      `Votre achat n° ${p.number} (${what}) est annulé : ${facts.reason ?? 'le paiement n’a pas été effectué à temps'}. Rien n'a été débité.`,
    ],
    CANCELLED: [
      'Achat annulé',
      `Votre achat n° ${p.number} (${what}) est annulé${facts.reason ? ` : ${facts.reason}` : ''}. Rien n'a été débité.`,
    ],
    REFUNDED: [
      'Achat remboursé',
      `Votre achat n° ${p.number} (${what}) est remboursé (${formatEurosFr(p.amountCents)})${facts.reason ? ` : ${facts.reason}` : ''}. Le remboursement apparaîtra sur votre relevé sous quelques jours.`,
    ],
  };
  const [subject, body] = texts[kind];
  return customerMail(to, subject, [body]);
}

/** To the account's own address when the buyer used another one: the credit landed on their account. */
export function accountCreditedMail(p: CreditPurchase, to: string, balance: BalanceFacts): OutgoingMail {
  return customerMail(
    to,
    p.product === 'SUPPORT_PACK' ? 'Crédit-temps ajouté à votre compte' : 'Crédits ajoutés à votre compte',
    [
      `L'achat n° ${p.number} (${productLabel(p)}) a été crédité sur votre compte client n° ${balance.accountId}.\n${balanceLine(p, balance)}`,
    ],
  );
}

export function opsUnmatchedReminderMail(p: CreditPurchase, to: string, reminder: number): OutgoingMail {
  const billing = p.billing as { companyName: string; email: string; firstName?: string; lastName?: string };
  return {
    to,
    subject: `[Crédit manuel] Achat n° ${p.number} payé, en attente d'un compte (relance ${reminder})`,
    text: [
      `L'achat n° ${p.number} (${productLabel(p)}, ${formatEurosFr(p.amountCents)}) est payé depuis le ${day(p.paidAt ?? p.updatedAt)} mais n'est rattaché à aucun compte client.`,
      `Acheteur : ${billing.companyName} — ${[billing.firstName, billing.lastName].filter(Boolean).join(' ')} <${billing.email}>`,
      p.claimedAccountId
        ? `Numéro de compte indiqué par l'acheteur (à vérifier) : ${p.claimedAccountId}`
        : '',
      '',
      `Attribuer : POST /ops/purchases/${p.id}/assign {"accountId": ...}`,
      `Rembourser : POST /ops/purchases/${p.id}/refund {"reason": "..."}`,
    ]
      .filter((l) => l !== undefined)
      .join('\n'),
  };
}

export function supportCallReportMail(call: SupportCall, to: string): OutgoingMail {
  const { reason } = supportCallDeduction({
    durationSeconds: call.durationSeconds,
    billable: call.billable,
    causedBySoftware: call.causedBySoftware,
    cloud: call.cloudIncluded,
  });
  return customerMail(to, `Compte rendu de votre appel au support du ${day(call.calledAt)}`, [
    [
      `Voici le compte rendu de votre appel au support technique du ${day(call.calledAt)}${call.baseId ? ` (base ${call.baseId})` : ''}.`,
      '',
      `Technicien : ${call.technician}`,
      `Opération effectuée : ${call.operation}`,
      `Durée de l'appel : ${formatDuration(call.durationSeconds)}`,
      `Temps décompté : ${formatDuration(call.deductedSeconds)} (${DEDUCTION_LABELS[reason]})`,
      `Crédit-temps restant : ${formatDuration(call.balanceAfterSeconds)}`,
      call.balanceAfterSeconds <= 0
        ? '\nVotre crédit-temps est épuisé : vous pouvez en racheter via le menu ? → Support technique.'
        : '',
    ].join('\n'),
  ]);
}
