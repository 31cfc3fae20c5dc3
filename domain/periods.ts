/**
 * Calendar-anchored billing periods on plain dates (no time, no time zone).
 *
 * A `LocalDate` is a validated 'YYYY-MM-DD' string: it survives JSON, Temporal payloads and database columns
 * unchanged, and sorts lexicographically. Arithmetic goes through a day number (days since 1970-01-01)
 * computed with integer formulas, so nothing here depends on `Date`, the host time zone or the clock.
 *
 * Periods are half-open, [start, end): the end date is the first day of the next period, and the number of
 * days in a period is simply `daysBetween(start, end)`.
 */
import { z } from 'zod';
import { PERIOD_MONTHS, type BillingPeriod } from './catalog';

export type LocalDate = string & { readonly __brand: 'LocalDate' };

export interface DateParts {
  year: number;
  month: number; // 1..12
  day: number; // 1..31
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isValidParts({ year, month, day }: DateParts): boolean {
  return (
    Number.isInteger(year) &&
    year >= 1 &&
    year <= 9999 &&
    Number.isInteger(month) &&
    month >= 1 &&
    month <= 12 &&
    Number.isInteger(day) &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

const LOCAL_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

function partsOf(text: string): DateParts | undefined {
  const match = LOCAL_DATE_PATTERN.exec(text);
  if (!match) return undefined;
  const parts = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isValidParts(parts) ? parts : undefined;
}

export function isLocalDate(text: string): text is LocalDate {
  return partsOf(text) !== undefined;
}

/** '2028-02-29' → LocalDate; throws on a malformed or impossible date ('2027-02-29'). */
export function parseLocalDate(text: string): LocalDate {
  if (!isLocalDate(text)) throw new RangeError(`not a valid YYYY-MM-DD date: ${text}`);
  return text;
}

// `isLocalDate` is a type guard, so the parsed value is already typed LocalDate.
export const localDateSchema = z.string().refine(isLocalDate, 'a date as YYYY-MM-DD, e.g. 2028-02-29');

/** {year, month, day} → LocalDate; throws on an impossible date. */
export function formatLocalDate(parts: DateParts): LocalDate {
  if (!isValidParts(parts)) throw new RangeError(`not a valid date: ${JSON.stringify(parts)}`);
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(parts.year, 4)}-${pad(parts.month, 2)}-${pad(parts.day, 2)}` as LocalDate;
}

export function localDateParts(date: LocalDate): DateParts {
  const parts = partsOf(date);
  if (!parts) throw new RangeError(`not a valid YYYY-MM-DD date: ${date}`);
  return parts;
}

// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil / civil_from_days).
function toDayNumber({ year, month, day }: DateParts): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function fromDayNumber(dayNumber: number): DateParts {
  const z0 = dayNumber + 719468;
  const era = Math.floor(z0 / 146097);
  const dayOfEra = z0 - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Signed number of days from `a` to `b`: daysBetween('2027-01-31', '2027-02-28') = 28. */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return toDayNumber(localDateParts(b)) - toDayNumber(localDateParts(a));
}

export function addDays(date: LocalDate, days: number): LocalDate {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  return formatLocalDate(fromDayNumber(toDayNumber(localDateParts(date)) + days));
}

/**
 * Moves `months` calendar months from `start` and lands on `anchorDay`, clamped to the target month's length.
 * The day of `start` itself is ignored: keeping the anchor separately is what stops drift
 * (Jan 31 → Feb 28 → Mar 31, not Jan 31 → Feb 28 → Mar 28).
 */
export function addMonthsAnchored(start: LocalDate, months: number, anchorDay: number): LocalDate {
  if (!Number.isInteger(months)) throw new RangeError(`months must be an integer, got ${months}`);
  if (!Number.isInteger(anchorDay) || anchorDay < 1 || anchorDay > 31) {
    throw new RangeError(`anchorDay must be 1..31, got ${anchorDay}`);
  }
  const { year, month } = localDateParts(start);
  const monthIndex = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(monthIndex / 12);
  const targetMonth = monthIndex - targetYear * 12 + 1;
  return formatLocalDate({
    year: targetYear,
    month: targetMonth,
    day: Math.min(anchorDay, daysInMonth(targetYear, targetMonth)),
  });
}

/** End (exclusive) of the period that starts on `start`. */
export function periodEnd(start: LocalDate, period: BillingPeriod, anchorDay: number): LocalDate {
  return addMonthsAnchored(start, PERIOD_MONTHS[period], anchorDay);
}

export interface DateRange {
  start: LocalDate;
  /** Exclusive. */
  end: LocalDate;
}

/** Whether `date` lies in the half-open range [start, end). */
export function isInRange(range: DateRange, date: LocalDate): boolean {
  return daysBetween(range.start, date) >= 0 && daysBetween(date, range.end) > 0;
}

/**
 * The n-th period (n = 0 for the first) of a subscription that started on `anchorStart`. Every boundary is
 * computed from the anchor, never from the previous boundary, so periods never drift. The anchor day is the
 * day of `anchorStart`: a subscription started on 2028-02-29 renews on Feb 28 in common years and on Feb 29
 * again in leap years (2029-02-28, 2030-02-28, 2031-02-28, 2032-02-29).
 */
export function nthPeriod(anchorStart: LocalDate, period: BillingPeriod, n: number): DateRange {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  const anchorDay = localDateParts(anchorStart).day;
  const months = PERIOD_MONTHS[period];
  return {
    start: addMonthsAnchored(anchorStart, n * months, anchorDay),
    end: addMonthsAnchored(anchorStart, (n + 1) * months, anchorDay),
  };
}
