/**
 * Eligibility of a v15 → A1 licence migration (SPEC §3, last point): an ENTERPRISE v15 licence that expires
 * more than one calendar month from today has its remaining time transferred, free, to an A1 licence of the
 * same base; once per base. Pure: "today" is given (a Europe/Paris day, see `dayOf`).
 */
import { addDays, addMonthsAnchored, daysBetween, localDateParts, type LocalDate } from './periods';

export type MigrationRefusalCode =
  | 'V15_LICENCE_NOT_FOUND'
  | 'ALREADY_TRANSFERRED'
  | 'MIGRATION_NOT_ELIGIBLE_EDITION'
  | 'MIGRATION_TOO_LATE'
  | 'A1_LICENCE_ACTIVE';

export interface MigrationRefusal {
  code: MigrationRefusalCode;
  message: string;
}

/** The v15 licence as the rules see it. `endDate` is its last valid day (inclusive). */
export interface V15LicenceFacts {
  status: string;
  edition: 'STANDARD' | 'ENTERPRISE';
  endDate: LocalDate;
}

/** Same day next month, clamped to the month's length: Jan 31 → Feb 28 (29 in a leap year), Mar 15 → Apr 15. */
export function oneMonthAfter(today: LocalDate): LocalDate {
  return addMonthsAnchored(today, 1, localDateParts(today).day);
}

/**
 * "Expires more than one month from now": the last valid day is strictly after today + 1 calendar month.
 * With exactly one month left (today Mar 15, last day Apr 15) the transfer is refused.
 */
export function hasMoreThanOneMonthLeft(endDate: LocalDate, today: LocalDate): boolean {
  return daysBetween(oneMonthAfter(today), endDate) > 0;
}

/** The first day the v15 licence no longer covers: the exclusive end of the A1 licence's opening period. */
export function exclusiveEnd(endDate: LocalDate): LocalDate {
  return addDays(endDate, 1);
}

/**
 * Why a migration is refused, or undefined when it may go ahead. The order is the one a customer
 * understands best: nothing to migrate, already done, wrong edition, too late, then the overlap with a
 * paid A1 licence (which ops may override: the paid licence is left as it is, see docs/licence-migration.md).
 */
export function migrationRefusal(input: {
  v15: V15LicenceFacts | null;
  today: LocalDate;
  /** the base already has an A1 licence bought or being bought (PENDING, ACTIVE or PAST_DUE) */
  a1Running: boolean;
  override: boolean;
}): MigrationRefusal | undefined {
  const { v15, today } = input;
  if (!v15) {
    return {
      code: 'V15_LICENCE_NOT_FOUND',
      message: 'No v15 licence is known for this base (ask support to import it)',
    };
  }
  if (v15.status === 'TRANSFERRED') {
    return {
      code: 'ALREADY_TRANSFERRED',
      message: 'The v15 licence of this base was already transferred to A1',
    };
  }
  if (v15.edition !== 'ENTERPRISE') {
    return {
      code: 'MIGRATION_NOT_ELIGIBLE_EDITION',
      message: 'Only ENTERPRISE v15 licences are transferred to A1; STANDARD LOCAL is free in A1',
    };
  }
  if (!hasMoreThanOneMonthLeft(v15.endDate, today)) {
    return {
      code: 'MIGRATION_TOO_LATE',
      message: `The v15 licence ends on ${v15.endDate}: only licences with more than one month left (after ${oneMonthAfter(today)}) are transferred`,
    };
  }
  if (input.a1Running && !input.override) {
    return {
      code: 'A1_LICENCE_ACTIVE',
      message:
        'This base already has an A1 paid licence: the v15 time would overlap it. Ask support, who can transfer it anyway',
    };
  }
  return undefined;
}
