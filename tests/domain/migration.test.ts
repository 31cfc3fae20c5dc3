import {
  hasMoreThanOneMonthLeft,
  migrationRefusal,
  oneMonthAfter,
  exclusiveEnd,
} from '../../domain/migration';
import { parseLocalDate as d } from '../../domain/periods';

describe('one calendar month from today', () => {
  it.each([
    ['2027-03-15', '2027-04-15'],
    ['2027-01-31', '2027-02-28'],
    ['2028-01-31', '2028-02-29'],
    ['2027-03-31', '2027-04-30'],
    ['2027-12-20', '2028-01-20'],
  ])('%s + 1 month = %s', (today, expected) => {
    expect(oneMonthAfter(d(today))).toBe(expected);
  });

  it('exactly one month left is not enough; one day more is', () => {
    expect(hasMoreThanOneMonthLeft(d('2027-04-15'), d('2027-03-15'))).toBe(false);
    expect(hasMoreThanOneMonthLeft(d('2027-04-16'), d('2027-03-15'))).toBe(true);
    expect(hasMoreThanOneMonthLeft(d('2027-04-14'), d('2027-03-15'))).toBe(false);
  });

  it('clamps at the end of the month: Jan 31 needs an end after Feb 28 (Feb 29 in leap years)', () => {
    expect(hasMoreThanOneMonthLeft(d('2027-02-28'), d('2027-01-31'))).toBe(false);
    expect(hasMoreThanOneMonthLeft(d('2027-03-01'), d('2027-01-31'))).toBe(true);
    expect(hasMoreThanOneMonthLeft(d('2028-02-29'), d('2028-01-31'))).toBe(false);
    expect(hasMoreThanOneMonthLeft(d('2028-03-01'), d('2028-01-31'))).toBe(true);
  });

  it('a licence already ended has no time left', () => {
    expect(hasMoreThanOneMonthLeft(d('2027-01-01'), d('2027-03-15'))).toBe(false);
  });

  it('the A1 licence covers the last v15 day: its period ends the day after', () => {
    expect(exclusiveEnd(d('2027-12-31'))).toBe('2028-01-01');
  });
});

describe('migrationRefusal', () => {
  const today = d('2027-03-15');
  const eligible = { status: 'ACTIVE', edition: 'ENTERPRISE' as const, endDate: d('2027-09-30') };
  const refusal = (over: Partial<Parameters<typeof migrationRefusal>[0]>) =>
    migrationRefusal({ v15: eligible, today, a1Running: false, override: false, ...over })?.code;

  it('accepts an ENTERPRISE licence with more than a month left', () => {
    expect(refusal({})).toBeUndefined();
  });

  it('names each refusal', () => {
    expect(refusal({ v15: null })).toBe('V15_LICENCE_NOT_FOUND');
    expect(refusal({ v15: { ...eligible, status: 'TRANSFERRED' } })).toBe('ALREADY_TRANSFERRED');
    expect(refusal({ v15: { ...eligible, edition: 'STANDARD' } })).toBe('MIGRATION_NOT_ELIGIBLE_EDITION');
    expect(refusal({ v15: { ...eligible, endDate: d('2027-04-15') } })).toBe('MIGRATION_TOO_LATE');
    expect(refusal({ a1Running: true })).toBe('A1_LICENCE_ACTIVE');
  });

  it('ops may override only the overlap with a paid A1 licence', () => {
    expect(refusal({ a1Running: true, override: true })).toBeUndefined();
    expect(refusal({ override: true, v15: { ...eligible, endDate: d('2027-04-15') } })).toBe(
      'MIGRATION_TOO_LATE',
    );
    expect(refusal({ override: true, v15: { ...eligible, status: 'TRANSFERRED' } })).toBe(
      'ALREADY_TRANSFERRED',
    );
  });

  it('already transferred wins over every other reason (a second request)', () => {
    expect(
      refusal({
        v15: { status: 'TRANSFERRED', edition: 'ENTERPRISE', endDate: d('2027-03-20') },
        a1Running: true,
      }),
    ).toBe('ALREADY_TRANSFERRED');
  });
});
