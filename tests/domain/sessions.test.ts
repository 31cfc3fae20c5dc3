import fc from 'fast-check';
import {
  DEFAULT_EVICTION_REASON,
  durationSeconds,
  FREE_EDITION_CONNECTIONS,
  fullBaseChoices,
  seatLimit,
  sessionsToTrim,
} from '../../domain/sessions';

describe('seatLimit', () => {
  it('a usable paid licence gives its connections, during the dunning grace period too', () => {
    expect(seatLimit({ status: 'ACTIVE', connections: 3 })).toEqual({ maxConnections: 3, source: 'LICENCE' });
    expect(seatLimit({ status: 'PAST_DUE', connections: 7 })).toEqual({
      maxConnections: 7,
      source: 'LICENCE',
    });
  });

  it('without a paid licence, or once it ended, the free edition’s connections', () => {
    expect(FREE_EDITION_CONNECTIONS).toBe(1);
    expect(seatLimit(null)).toEqual({ maxConnections: 1, source: 'FREE_EDITION' });
    expect(seatLimit({ status: 'ENDED', connections: 12 })).toEqual({
      maxConnections: 1,
      source: 'FREE_EDITION',
    });
  });

  it('a suspended CLOUD licence allows no session at all', () => {
    expect(seatLimit({ status: 'SUSPENDED', connections: 5 })).toEqual({
      maxConnections: 0,
      source: 'SUSPENDED',
    });
  });
});

describe('sessionsToTrim', () => {
  const at = (minute: number, id: number) => ({
    id: BigInt(id),
    openedAt: new Date(Date.UTC(2026, 0, 1, 9, minute)),
  });

  it('closes the oldest extra sessions, keeping the newest', () => {
    const active = [at(5, 3), at(1, 1), at(9, 4), at(3, 2)];
    expect(sessionsToTrim(active, 2).map((s) => Number(s.id))).toEqual([1, 2]);
    expect(sessionsToTrim(active, 0).map((s) => Number(s.id))).toEqual([1, 2, 3, 4]);
    expect(sessionsToTrim(active, 4)).toEqual([]);
  });

  it('same start: the lower id (opened first) goes first', () => {
    expect(sessionsToTrim([at(1, 8), at(1, 7)], 1).map((s) => Number(s.id))).toEqual([7]);
  });

  it('always leaves exactly min(count, max) sessions, the newest ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 10_000 })), {
          maxLength: 30,
        }),
        fc.integer({ min: 0, max: 40 }),
        (rows, max) => {
          const active = [...new Map(rows.map(([m, id]) => [id, at(m, id)])).values()];
          const trimmed = sessionsToTrim(active, max);
          const kept = active.filter((s) => !trimmed.includes(s));
          expect(kept).toHaveLength(Math.min(active.length, max));
          const newestTrimmed = Math.max(...trimmed.map((s) => s.openedAt.getTime()));
          for (const k of kept) expect(k.openedAt.getTime()).toBeGreaterThanOrEqual(newestTrimmed);
        },
      ),
    );
  });
});

describe('full base', () => {
  it('offers the three choices; ordering a connection is the add-connection operation of a paid licence', () => {
    const choices = fullBaseChoices('82520020025896075', 2, 'LICENCE');
    expect(choices.map((c) => c.choice)).toEqual(['DISCONNECT_SESSION', 'ORDER_CONNECTION', 'QUIT']);
    expect(choices[0]!.body).toMatchObject({ evict: { reason: DEFAULT_EVICTION_REASON } });
    expect(choices[1]).toMatchObject({
      method: 'POST',
      href: '/bases/82520020025896075/licence/changes',
      body: { connections: 3 },
    });
  });

  it('without a paid licence, ordering a connection means buying one', () => {
    expect(fullBaseChoices('82520020025896075', 1, 'FREE_EDITION')[1]).toMatchObject({
      href: '/bases/82520020025896075/subscriptions',
    });
  });

  it('durations are whole seconds, never negative', () => {
    const start = new Date('2025-12-31T16:11:56Z');
    expect(durationSeconds(start, new Date('2025-12-31T16:16:47.900Z'))).toBe(291); // 04 m 51 s
    expect(durationSeconds(start, new Date('2025-12-31T16:11:55Z'))).toBe(0);
  });
});
