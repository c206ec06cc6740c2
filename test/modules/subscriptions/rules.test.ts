import { describe, expect, it } from 'vitest';
import { nextDeliveryDate, type Schedule, summaryOf } from '../../../src/modules/subscriptions/rules.js';

const WORKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];

describe('summary (§4.4)', () => {
  const cases: [string, number, string[] | null, number | null, string][] = [
    ['daily', 1, null, null, 'sent every day'],
    ['daily', 3, null, null, 'sent every 3 days'],
    ['weekly', 1, null, null, 'sent every week'],
    ['weekly', 2, null, null, 'sent every 2 weeks'],
    ['monthly', 1, null, null, 'sent every month'],
    ['yearly', 1, null, null, 'sent every year'],
    ['yearly', 2, null, null, 'sent every 2 years'],
    ['weekly', 1, ['monday'], null, 'sent every week'],
    ['weekly', 1, null, 1, 'sent every week'],
    ['weekly', 1, [], 1, 'sent every week'],
    ['weekly', 1, ['monday'], 1, 'sent every week on the first Monday'],
    ['monthly', 1, ['monday'], 1, 'sent every month on the first Monday'],
    ['monthly', 1, ['tuesday'], 2, 'sent every month on the second Tuesday'],
    ['monthly', 1, ['wednesday'], 3, 'sent every month on the third Wednesday'],
    ['monthly', 1, ['thursday'], 4, 'sent every month on the fourth Thursday'],
    ['monthly', 1, ['friday'], -1, 'sent every month on the last Friday'],
    ['monthly', 2, ['sunday'], 1, 'sent every 2 months on the first Sunday'],
    ['monthly', 1, WORKDAYS, -1, 'sent every month on the last weekday'],
    ['monthly', 1, [...WORKDAYS].reverse(), 1, 'sent every month on the first weekday'],
    ['monthly', 1, [...WORKDAYS, 'saturday'], 1, 'sent every month on the first day'],
    ['monthly', 1, ['monday', 'wednesday'], 2, 'sent every month on the second day'],
    ['yearly', 3, ['saturday'], -1, 'sent every 3 years on the last Saturday'],
    ['monthly', 1, ['monday'], 5, 'sent on a schedule'],
    ['monthly', 1, ['monday'], 0, 'sent on a schedule'],
    ['hourly', 1, null, null, 'sent on a schedule'],
  ];
  it.each(cases)('%s every %i, %j, bysetpos %j: %s', (frequency, interval, byweekday, bysetpos, expected) => {
    expect(summaryOf({ frequency, interval, byweekday, bysetpos })).toBe(expected);
  });
});

describe('next_delivery_date (§4.5, with a time zone)', () => {
  const base: Schedule = { frequency: 'daily', interval: 1, byweekday: null, bysetpos: null, count: null, startDate: '2026-01-01T09:00:00Z', untilDate: null, timezone: 'UTC' };
  const cases: [string, Partial<Schedule>, string, string | null][] = [
    // [what, schedule, now, expected]
    ['the first occurrence after now + 15 min', {}, '2026-03-01T08:40:00Z', '2026-03-01T09:00:00Z'],
    ['an occurrence inside the 15 minutes is skipped', {}, '2026-03-01T08:50:00Z', '2026-03-02T09:00:00Z'],
    ['exactly now + 15 min is not after it', {}, '2026-03-01T08:45:00Z', '2026-03-02T09:00:00Z'],
    ['a start in the future is the first occurrence', { startDate: '2026-06-01T10:30:00Z' }, '2026-03-01T00:00:00Z', '2026-06-01T10:30:00Z'],
    ['every 2 weeks from a Monday', { frequency: 'weekly', interval: 2, startDate: '2026-01-05T09:00:00Z' }, '2026-01-06T00:00:00Z', '2026-01-19T09:00:00Z'],
    ['first Monday of the month', { frequency: 'monthly', byweekday: ['monday'], bysetpos: 1 }, '2026-03-01T00:00:00Z', '2026-03-02T09:00:00Z'],
    ['last weekday of the month', { frequency: 'monthly', byweekday: WORKDAYS, bysetpos: -1 }, '2026-03-01T00:00:00Z', '2026-03-31T09:00:00Z'],
    ['bysetpos without byweekday is ignored', { frequency: 'monthly', bysetpos: 2, startDate: '2026-01-15T09:00:00Z' }, '2026-03-01T00:00:00Z', '2026-03-15T09:00:00Z'],
    ['count: the last occurrence', { count: 3 }, '2026-01-02T12:00:00Z', '2026-01-03T09:00:00Z'],
    ['count: used up', { count: 3 }, '2026-01-03T12:00:00Z', null],
    ['count 0: nothing', { count: 0, startDate: '2030-01-01T09:00:00Z' }, '2026-01-01T00:00:00Z', null],
    ['count -1: nothing (as dateutil)', { count: -1, startDate: '2030-01-01T09:00:00Z' }, '2026-01-01T00:00:00Z', null],
    ['until: inclusive', { untilDate: '2026-03-05T09:00:00Z' }, '2026-03-04T12:00:00Z', '2026-03-05T09:00:00Z'],
    ['until: passed', { untilDate: '2026-03-05T09:00:00Z' }, '2026-03-05T12:00:00Z', null],
    // Europe/Paris: CET (+1) to CEST (+2) on 2026-03-29, back on 2026-10-25.
    ['Paris, spring: 09:00 stays 09:00', { timezone: 'Europe/Paris', startDate: '2026-03-20T08:00:00Z' }, '2026-03-28T12:00:00Z', '2026-03-29T07:00:00Z'],
    ['UTC, the same rule: 08:00Z', { startDate: '2026-03-20T08:00:00Z' }, '2026-03-28T12:00:00Z', '2026-03-29T08:00:00Z'],
    ['Paris, before the change', { timezone: 'Europe/Paris', startDate: '2026-03-20T08:00:00Z' }, '2026-03-27T12:00:00Z', '2026-03-28T08:00:00Z'],
    ['Paris, autumn', { timezone: 'Europe/Paris', startDate: '2026-10-20T07:00:00Z' }, '2026-10-24T12:00:00Z', '2026-10-25T08:00:00Z'],
    ['Paris, weekly across the autumn change', { timezone: 'Europe/Paris', frequency: 'weekly', startDate: '2026-10-19T07:00:00Z' }, '2026-10-20T00:00:00Z', '2026-10-26T08:00:00Z'],
    ['Paris, 02:30 skipped in spring moves to 03:30 CEST', { timezone: 'Europe/Paris', startDate: '2026-03-20T01:30:00Z' }, '2026-03-28T12:00:00Z', '2026-03-29T01:30:00Z'],
    ['Paris, 02:30 twice in autumn: once', { timezone: 'Europe/Paris', startDate: '2026-10-20T00:30:00Z' }, '2026-10-24T12:00:00Z', '2026-10-25T01:30:00Z'],
    ['Paris, the day after the repeated 02:30', { timezone: 'Europe/Paris', startDate: '2026-10-20T00:30:00Z' }, '2026-10-25T01:20:00Z', '2026-10-26T01:30:00Z'],
    // America/New_York: EST (-5) to EDT (-4) on 2026-03-08, back on 2026-11-01.
    ['New York, spring', { timezone: 'America/New_York', frequency: 'weekly', startDate: '2026-03-02T14:00:00Z' }, '2026-03-03T00:00:00Z', '2026-03-09T13:00:00Z'],
    ['New York, autumn', { timezone: 'America/New_York', frequency: 'weekly', startDate: '2026-10-26T13:00:00Z' }, '2026-10-27T00:00:00Z', '2026-11-02T14:00:00Z'],
    ['New York, last Sunday of October then of November', { timezone: 'America/New_York', frequency: 'monthly', byweekday: ['sunday'], bysetpos: -1, startDate: '2026-10-01T13:00:00Z' }, '2026-10-26T00:00:00Z', '2026-11-29T14:00:00Z'],
    ['New York, count across the change', { timezone: 'America/New_York', count: 10, startDate: '2026-03-01T14:00:00Z' }, '2026-03-09T00:00:00Z', '2026-03-09T13:00:00Z'],
    ['New York, until in local time', { timezone: 'America/New_York', startDate: '2026-03-01T14:00:00Z', untilDate: '2026-03-09T13:00:00Z' }, '2026-03-09T13:00:00Z', null],
  ];
  it.each(cases)('%s', (_what, schedule, now, expected) => {
    expect(nextDeliveryDate({ ...base, ...schedule }, new Date(now))?.toISOString().replace('.000Z', 'Z') ?? null).toBe(expected);
  });

  it('starts after a given instant when that is later than now + 15 min (after a delivery)', () => {
    expect(nextDeliveryDate(base, new Date('2026-03-01T00:00:00Z'), new Date('2026-03-10T09:00:00Z'))?.toISOString()).toBe('2026-03-11T09:00:00.000Z');
  });
});
