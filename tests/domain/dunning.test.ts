import { afterLastFailure, nextRetryOn } from '../../domain/dunning';
import type { LocalDate } from '../../domain/periods';

const day = (d: string) => d as LocalDate;

const policy = { dunningRetryDays: [1, 3, 7] };

it('schedules each retry from the period end, then gives up', () => {
  expect(nextRetryOn(policy, day('2027-01-01'), 1)).toBe('2027-01-02');
  expect(nextRetryOn(policy, day('2027-01-01'), 2)).toBe('2027-01-04');
  expect(nextRetryOn(policy, day('2027-01-01'), 3)).toBe('2027-01-08');
  expect(nextRetryOn(policy, day('2027-01-01'), 4)).toBeUndefined();
  expect(nextRetryOn({ dunningRetryDays: [] }, day('2027-01-01'), 1)).toBeUndefined();
});

it('after the last failure a LOCAL licence ends and a CLOUD one is suspended', () => {
  expect(afterLastFailure('LOCAL')).toBe('ENDED');
  expect(afterLastFailure('CLOUD')).toBe('SUSPENDED');
});
