/** Texts of the emails that carry a code. The product's customers are French: mails are in French. */
import type { ChallengePurpose } from '../domain/email-code';
import type { OutgoingMail } from '../infra/mailer';

const subjects: Record<ChallengePurpose, string> = {
  ACCOUNT_CONFIRMATION: 'Confirmez votre compte client',
  MACHINE_LINK: 'Code de rattachement de votre poste à votre compte',
  INSTALLATION_CLAIM: "Code d'enregistrement d'un nouveau poste",
  PASSWORD_RESET: 'Réinitialisation de votre mot de passe',
};

const intros: Record<ChallengePurpose, string> = {
  ACCOUNT_CONFIRMATION: 'Pour confirmer la création de votre compte client, saisissez ce code :',
  MACHINE_LINK: 'Pour rattacher un poste à votre compte client, saisissez ce code sur ce poste :',
  INSTALLATION_CLAIM:
    'Un nouveau poste demande à être enregistré sur une de vos bases. Pour l’autoriser, saisissez ce code sur ce poste :',
  PASSWORD_RESET: 'Pour choisir un nouveau mot de passe, saisissez ce code :',
};

export function codeMail(
  purpose: ChallengePurpose,
  to: string,
  code: string,
  ttlSeconds: number,
): OutgoingMail {
  const minutes = Math.round(ttlSeconds / 60);
  const text = [
    'Bonjour,',
    '',
    intros[purpose],
    '',
    `    ${code}`,
    '',
    `Ce code est valable ${minutes} minute${minutes > 1 ? 's' : ''} et remplace tout code envoyé précédemment.`,
    "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.",
  ].join('\n');
  return { to, subject: `${subjects[purpose]} — ${code}`, text };
}
