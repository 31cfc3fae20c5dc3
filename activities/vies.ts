/**
 * The VIES check (EU VAT Information Exchange System), through its REST API: `POST {VIES_URL}/check-vat-number`
 * with `{ countryCode, vatNumber, requesterMemberStateCode, requesterNumber }`. VIES is often unavailable (a
 * member state's register down, too many concurrent requests): those answers are retried here a few times, then
 * reported as UNAVAILABLE — never as a verdict. `checkVatNumberWithVies` is the same call as a Temporal activity:
 * unavailable is thrown, so Temporal retries it with the workflow's retry policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ViesCheck, ViesConsultation, ViesVerdict } from '../domain/vies';

export interface ViesDeps {
  /** VIES_URL, e.g. https://ec.europa.eu/taxation_customs/vies/rest-api */
  baseUrl: string;
  fetch: typeof fetch;
  /** the seller's own VAT number: VIES then answers a consultation number (requestIdentifier) */
  requesterVatNumber?: string;
  /** attempts before UNAVAILABLE (default 3) */
  attempts?: number;
  /** pause between attempts, doubled each time (default 250 ms) */
  retryDelayMs?: number;
  /** one request's timeout (default 10 s) */
  timeoutMs?: number;
}

/** VIES error codes that mean "ask again later", not "this number is invalid". */
const UNAVAILABLE_CODES = new Set([
  'MS_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
  'MS_MAX_CONCURRENT_REQ',
  'GLOBAL_MAX_CONCURRENT_REQ',
  'TIMEOUT',
  'SERVER_BUSY',
]);

interface ViesAnswer {
  valid?: unknown;
  requestDate?: unknown;
  requestIdentifier?: unknown;
  errorWrappers?: { error?: unknown; message?: unknown }[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createViesActivities(deps: ViesDeps) {
  const attempts = deps.attempts ?? 3;
  const retryDelayMs = deps.retryDelayMs ?? 250;
  const url = `${deps.baseUrl.replace(/\/$/, '')}/check-vat-number`;
  const requester = deps.requesterVatNumber;

  /** One consultation; UNAVAILABLE for anything that is not a verdict. */
  async function consultOnce(vatNumber: string): Promise<ViesVerdict> {
    const countryCode = vatNumber.slice(0, 2);
    let response: Response;
    try {
      response = await deps.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          countryCode,
          vatNumber: vatNumber.slice(2),
          ...(requester
            ? { requesterMemberStateCode: requester.slice(0, 2), requesterNumber: requester.slice(2) }
            : {}),
        }),
        signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
      });
    } catch (error) {
      return { status: 'UNAVAILABLE', reason: `VIES unreachable: ${(error as Error).message}` };
    }
    let answer: ViesAnswer;
    try {
      answer = (await response.json()) as ViesAnswer;
    } catch {
      return { status: 'UNAVAILABLE', reason: `VIES answered ${response.status} without JSON` };
    }
    const code = answer.errorWrappers?.[0]?.error;
    if (typeof code === 'string')
      return {
        status: 'UNAVAILABLE',
        reason: UNAVAILABLE_CODES.has(code) ? `VIES: ${code}` : `VIES refused the request: ${code}`,
      };
    if (!response.ok || typeof answer.valid !== 'boolean')
      return { status: 'UNAVAILABLE', reason: `VIES answered ${response.status}` };
    const consultation: ViesConsultation = {
      vatNumber,
      valid: answer.valid,
      requestIdentifier:
        typeof answer.requestIdentifier === 'string' && answer.requestIdentifier !== ''
          ? answer.requestIdentifier
          : null,
      requestDate: typeof answer.requestDate === 'string' ? answer.requestDate : new Date().toISOString(),
    };
    return { status: answer.valid ? 'VALID' : 'INVALID', consultation };
  }

  /** With retries of the unavailable answers: a verdict, or UNAVAILABLE after the last attempt. */
  const checkVatNumber: ViesCheck = async (vatNumber) => {
    let verdict = await consultOnce(vatNumber);
    for (let attempt = 1; attempt < attempts && verdict.status === 'UNAVAILABLE'; attempt++) {
      await pause(retryDelayMs * 2 ** (attempt - 1));
      verdict = await consultOnce(vatNumber);
    }
    return verdict;
  };

  /** The activity: a verdict, or a retryable failure Temporal retries while VIES is unavailable. */
  const checkVatNumberWithVies = async (vatNumber: string): Promise<ViesConsultation> => {
    const verdict = await consultOnce(vatNumber);
    if (verdict.status === 'UNAVAILABLE')
      throw ApplicationFailure.retryable(verdict.reason, 'VIES_UNAVAILABLE');
    return verdict.consultation;
  };

  return { checkVatNumber, checkVatNumberWithVies };
}
