/**
 * The approved-platform port: what the outbox needs from a platform ("plateforme agréée"). One adapter per
 * platform; the one in use is chosen by EINVOICE_PLATFORM (infra/config.ts).
 */
import type { EInvoiceDocumentKind, EInvoiceFlow, PlatformStatus } from '../../domain/e-invoicing';

export interface PlatformDocument {
  /** the outbox row's id: the same document sent again carries the same key (the platform answers once) */
  idempotencyKey: string;
  kind: EInvoiceDocumentKind;
  number: string;
  flow: EInvoiceFlow;
  /** the Factur-X PDF/A-3 (its CII XML embedded) */
  pdf: Buffer;
}

export interface PlatformAnswer {
  /** the platform's id of the document */
  platformId: string;
  status: PlatformStatus;
  /** the platform's answer as it gave it (kept on the row) */
  raw: Record<string, unknown>;
}

export interface PlatformAdapter {
  readonly name: string;
  /**
   * Sends one document. Throws on a transient failure (unreachable, 5xx: the activity is retried);
   * answers REJECTED for a document the platform refuses to take.
   */
  send(document: PlatformDocument): Promise<PlatformAnswer>;
  /** The document's current lifecycle status at the platform. */
  fetchStatus(platformId: string): Promise<PlatformAnswer>;
}
