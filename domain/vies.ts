/**
 * What a VIES consultation (the EU's VAT Information Exchange System) answers about a VAT number, as data.
 * The call itself is an activity (`activities/vies.ts`); use-cases receive it as a `ViesCheck`.
 */

/** Kept with the purchase and the invoice: the proof the reverse charge rests on. */
export interface ViesConsultation {
  /** canonical VAT number, country prefix included (VIES' "EL" for Greece) */
  vatNumber: string;
  valid: boolean;
  /** VIES' consultation number (`requestIdentifier`); given when the requester's own VAT number is sent */
  requestIdentifier: string | null;
  /** when VIES answered (ISO 8601, as VIES states it) */
  requestDate: string;
}

export type ViesVerdict =
  | { status: 'VALID' | 'INVALID'; consultation: ViesConsultation }
  /** VIES or the member state's register did not answer (after retries): no decision can be taken */
  | { status: 'UNAVAILABLE'; reason: string };

/** Consults VIES about one canonical EU VAT number. */
export type ViesCheck = (vatNumber: string) => Promise<ViesVerdict>;

/** How long a buyer is told to wait before trying again when VIES is unavailable. */
export const VIES_RETRY_AFTER_SECONDS = 60;
