import fc from 'fast-check';
import {
  addDays,
  addMonthsAnchored,
  daysBetween,
  daysInMonth,
  formatLocalDate,
  isInRange,
  isLocalDate,
  localDateParts,
  localDateSchema,
  nthPeriod,
  parseLocalDate,
  periodEnd,
  type LocalDate,
} from '../../domain/periods';

const d = parseLocalDate;

describe('local dates', () => {
  it('parses and formats valid dates only', () => {
    expect(formatLocalDate({ year: 2028, month: 2, day: 29 })).toBe('2028-02-29');
    expect(localDateParts(d('2027-01-31'))).toEqual({ year: 2027, month: 1, day: 31 });
    expect(() => d('2027-02-29')).toThrow(RangeError);
    expect(() => d('2100-02-29')).toThrow(RangeError); // not a leap year
    expect(d('2000-02-29')).toBe('2000-02-29'); // a leap year
    for (const bad of ['2027-13-01', '2027-04-31', '2027-1-5', '27-01-05', '2027-01-05T00:00', '']) {
      expect(isLocalDate(bad)).toBe(false);
    }
    expect(localDateSchema.safeParse('2027-04-31').success).toBe(false);
    const parsed: LocalDate = localDateSchema.parse('2027-04-30'); // typed as LocalDate, checked by tsc
    expect(parsed).toBe('2027-04-30');
  });

  it('counts days', () => {
    expect(daysBetween(d('2027-01-31'), d('2027-02-28'))).toBe(28);
    expect(daysBetween(d('2027-01-01'), d('2028-01-01'))).toBe(365);
    expect(daysBetween(d('2028-01-01'), d('2029-01-01'))).toBe(366);
    expect(daysBetween(d('2028-03-01'), d('2028-02-28'))).toBe(-2);
    expect(daysBetween(d('1970-01-01'), d('2000-01-01'))).toBe(10957);
    expect(addDays(d('2028-02-28'), 1)).toBe('2028-02-29');
    expect(addDays(d('2027-12-31'), 1)).toBe('2028-01-01');
    expect(addDays(d('2028-03-01'), -1)).toBe('2028-02-29');
  });

  it('addDays and daysBetween agree for any date and offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100_000, max: 3_000_000 }),
        fc.integer({ min: -100_000, max: 100_000 }),
        (base, offset) => {
          const start = addDays(d('0001-01-01'), base);
          const moved = addDays(start, offset);
          expect(isLocalDate(moved)).toBe(true);
          expect(daysBetween(start, moved)).toBe(offset);
          expect(addDays(moved, -offset)).toBe(start);
        },
      ),
    );
  });
});

describe('calendar-anchored periods', () => {
  it('Jan 31 → Feb 28 → Mar 31 in a common year, Feb 29 in a leap year', () => {
    expect(addMonthsAnchored(d('2027-01-31'), 1, 31)).toBe('2027-02-28');
    expect(addMonthsAnchored(d('2027-01-31'), 2, 31)).toBe('2027-03-31');
    expect(addMonthsAnchored(d('2027-02-28'), 1, 31)).toBe('2027-03-31'); // back to the anchor, not Mar 28
    expect(addMonthsAnchored(d('2027-03-31'), 1, 31)).toBe('2027-04-30');
    expect(addMonthsAnchored(d('2028-01-31'), 1, 31)).toBe('2028-02-29');
    expect(addMonthsAnchored(d('2027-12-31'), 2, 31)).toBe('2028-02-29');
    expect(addMonthsAnchored(d('2027-01-31'), -2, 31)).toBe('2026-11-30');
  });

  it('chained monthly periods from Jan 31', () => {
    const chain = [0, 1, 2, 3].map((n) => nthPeriod(d('2027-01-31'), 'MONTHLY', n));
    expect(chain).toEqual([
      { start: '2027-01-31', end: '2027-02-28' },
      { start: '2027-02-28', end: '2027-03-31' },
      { start: '2027-03-31', end: '2027-04-30' },
      { start: '2027-04-30', end: '2027-05-31' },
    ]);
    expect(nthPeriod(d('2027-01-31'), 'MONTHLY', 12)).toEqual({ start: '2028-01-31', end: '2028-02-29' });
    expect(nthPeriod(d('2027-01-31'), 'MONTHLY', 13)).toEqual({ start: '2028-02-29', end: '2028-03-31' });
  });

  it('no drift over 24 monthly periods from the 31st: each start is the anchor clamped, each end the next start', () => {
    const anchor = d('2027-01-31');
    let previousEnd: LocalDate | undefined;
    for (let n = 0; n < 24; n++) {
      const { start, end } = nthPeriod(anchor, 'MONTHLY', n);
      if (previousEnd) expect(start).toBe(previousEnd);
      const { year, month, day } = localDateParts(start);
      expect(day).toBe(daysInMonth(year, month)); // anchor 31 → always the month's last day
      expect(periodEnd(start, 'MONTHLY', 31)).toBe(end);
      previousEnd = end;
    }
    expect(previousEnd).toBe('2029-01-31');
  });

  it('quarterly from Feb 29 2028 keeps the 29th', () => {
    const starts = [0, 1, 2, 3, 4].map((n) => nthPeriod(d('2028-02-29'), 'QUARTERLY', n).start);
    expect(starts).toEqual(['2028-02-29', '2028-05-29', '2028-08-29', '2028-11-29', '2029-02-28']);
    expect(nthPeriod(d('2028-02-29'), 'QUARTERLY', 5).start).toBe('2029-05-29');
  });

  it('annual from Feb 29 2028: Feb 28 in common years, Feb 29 again in leap years', () => {
    const ends = [0, 1, 2, 3].map((n) => nthPeriod(d('2028-02-29'), 'ANNUAL', n).end);
    expect(ends).toEqual(['2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29']);
    expect(periodEnd(d('2028-02-29'), 'ANNUAL', 29)).toBe('2029-02-28');
  });

  it('periods are half-open', () => {
    const period = nthPeriod(d('2027-01-31'), 'MONTHLY', 0);
    expect(isInRange(period, d('2027-01-31'))).toBe(true);
    expect(isInRange(period, d('2027-02-27'))).toBe(true);
    expect(isInRange(period, d('2027-02-28'))).toBe(false);
    expect(isInRange(period, d('2027-01-30'))).toBe(false);
  });

  it('rejects a bad anchor day or month count', () => {
    expect(() => addMonthsAnchored(d('2027-01-31'), 1, 32)).toThrow(RangeError);
    expect(() => addMonthsAnchored(d('2027-01-31'), 1, 0)).toThrow(RangeError);
    expect(() => addMonthsAnchored(d('2027-01-31'), 0.5, 31)).toThrow(RangeError);
    expect(() => nthPeriod(d('2027-01-31'), 'MONTHLY', -1)).toThrow(RangeError);
  });

  it('addMonthsAnchored always returns a valid date, on the anchor or the last day of a shorter month', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: -600, max: 600 }),
        fc.integer({ min: 1, max: 31 }),
        (year, month, day, months, anchorDay) => {
          const result = addMonthsAnchored(formatLocalDate({ year, month, day }), months, anchorDay);
          expect(isLocalDate(result)).toBe(true);
          const parts = localDateParts(result);
          expect((parts.year - year) * 12 + parts.month - month).toBe(months);
          if (parts.day !== anchorDay) {
            expect(parts.day).toBeLessThan(anchorDay);
            expect(localDateParts(addDays(result, 1)).day).toBe(1); // clamped to the month's last day
          }
        },
      ),
    );
  });
});
