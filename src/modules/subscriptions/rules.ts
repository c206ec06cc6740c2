import rrulePkg from 'rrule';
import { wallClock } from '../../lib/relative-date.js';
import { isoZ } from '../../lib/time.js';
import { DEFAULT_TIMEZONE, FREQUENCIES, type Frequency, WEEKDAYS, type Weekday } from './contract.js';
import type { NewSubscription } from './repository.js';

// rrule is CommonJS: Node's ESM loader sees only its default export.
const { RRule } = rrulePkg;

/** PostHog's look-ahead: the next delivery is the first occurrence after now + 15 minutes. */
export const LOOK_AHEAD_MS = 15 * 60 * 1000;
export const EXHAUSTED_MESSAGE = 'Subscription schedule has reached its end date. Extend until_date or remove count.';

/** The fields of a subscription its schedule (and summary) is made of. */
export interface Schedule {
  frequency: string;
  interval: number;
  byweekday: string[] | null;
  bysetpos: number | null;
  count: number | null;
  /** ISO instants. */
  startDate: string;
  untilDate: string | null;
  /** IANA name (a Burrow extension, beyond PostHog's UTC-only schedules). */
  timezone: string;
}

const UNITS: Record<Frequency, string> = { daily: 'day', weekly: 'week', monthly: 'month', yearly: 'year' };
const POSITIONS: Record<string, string> = { '1': 'first', '2': 'second', '3': 'third', '4': 'fourth', '-1': 'last' };
const WORKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];

const isFrequency = (value: string): value is Frequency => (FREQUENCIES as readonly string[]).includes(value);

/** Subscription.summary (§4.4), newest version: "weekday" for exactly Monday to Friday. */
export function summaryOf(s: Pick<Schedule, 'frequency' | 'interval' | 'byweekday' | 'bysetpos'>): string {
  if (!isFrequency(s.frequency)) return 'sent on a schedule';
  let summary = `sent every ${s.interval > 1 ? `${s.interval} ` : ''}${UNITS[s.frequency]}${s.interval > 1 ? 's' : ''}`;
  if (s.byweekday && s.byweekday.length > 0 && s.bysetpos !== null) {
    const pos = POSITIONS[String(s.bysetpos)];
    if (!pos) return 'sent on a schedule';
    const days = new Set(s.byweekday);
    const label =
      s.byweekday.length === 1
        ? s.byweekday[0]!.charAt(0).toUpperCase() + s.byweekday[0]!.slice(1)
        : days.size === WORKDAYS.length && WORKDAYS.every((day) => days.has(day))
          ? 'weekday'
          : 'day';
    summary += ` on the ${pos} ${label}`;
  }
  return summary;
}

/** The UTC offset of a time zone at an instant, in milliseconds. */
const offsetAt = (instantMs: number, timeZone: string): number =>
  wallClock(new Date(instantMs), timeZone).getTime() - (instantMs - (((instantMs % 1000) + 1000) % 1000));

/** An instant as the wall clock of the zone, in a Date's UTC fields (rrule's "floating" time). */
const toWallClock = (instantMs: number, timeZone: string) => new Date(instantMs + offsetAt(instantMs, timeZone));

/** A wall clock of the zone (UTC fields) as an instant; a time skipped by a DST change moves forward by the gap. */
function fromWallClock(wall: Date, timeZone: string): Date {
  const guess = wall.getTime();
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  return new Date(offsetAt(second, timeZone) === offsetAt(first, timeZone) ? first : Math.max(first, second));
}

/**
 * Subscription._build_rrule: dateutil's rule from start_date (which fixes the time of day), interval, count, until,
 * byweekday and bysetpos (only with byweekday). Burrow runs it on the wall clock of the subscription's time zone, so
 * a 09:00 schedule stays at 09:00 there across DST; with UTC that is PostHog's rule exactly.
 *
 * rrule's own tzid is not used: it converts through the process's local time zone, so its instants are right only
 * when the server runs with TZ=UTC.
 */
function ruleOf(s: Schedule) {
  const byweekday = s.byweekday && s.byweekday.length > 0 ? s.byweekday.map((day) => WEEKDAYS.indexOf(day as Weekday)) : null;
  return new RRule({
    freq: ({ daily: RRule.DAILY, weekly: RRule.WEEKLY, monthly: RRule.MONTHLY, yearly: RRule.YEARLY } as const)[s.frequency as Frequency],
    dtstart: toWallClock(Date.parse(s.startDate), s.timezone),
    interval: s.interval,
    count: s.count,
    until: s.untilDate === null ? null : toWallClock(Date.parse(s.untilDate), s.timezone),
    byweekday,
    bysetpos: byweekday ? s.bysetpos : null,
  });
}

/**
 * _compute_next_delivery_date: the first occurrence strictly after max(from, now + 15 min), as an instant; null once
 * the rule is exhausted (count used up, until passed).
 */
export function nextDeliveryDate(s: Schedule, now = new Date(), from?: Date): Date | null {
  // dateutil yields nothing for a count of 0 or less (rrule.js would take a negative count as no count).
  if (s.count !== null && s.count <= 0) return null;
  const floor = Math.max(from?.getTime() ?? 0, now.getTime() + LOOK_AHEAD_MS);
  const rule = ruleOf(s);
  let next = rule.after(toWallClock(floor, s.timezone), false);
  // An hour that a DST change repeats can map back before the floor: take the occurrence after it.
  while (next && fromWallClock(next, s.timezone).getTime() <= floor) next = rule.after(next, false);
  return next ? fromWallClock(next, s.timezone) : null;
}

/** What the rule is made of: next_delivery_date is recomputed only when this changes (PostHog compares str(rrule)). */
export function ruleKey(s: Schedule): string {
  return JSON.stringify([s.frequency, s.interval, s.byweekday ?? null, s.byweekday ? s.bysetpos : null, s.count, Date.parse(s.startDate), s.untilDate && Date.parse(s.untilDate), s.timezone]);
}

/** A stored (or about to be stored) subscription's schedule. */
export const scheduleOf = (row: Pick<NewSubscription, 'frequency' | 'interval' | 'byweekday' | 'bysetpos' | 'count' | 'startDate' | 'untilDate' | 'timezone'>): Schedule => ({
  frequency: row.frequency,
  interval: row.interval ?? 1,
  byweekday: row.byweekday ?? null,
  bysetpos: row.bysetpos ?? null,
  count: row.count ?? null,
  startDate: isoZ(row.startDate),
  untilDate: isoZ(row.untilDate ?? null),
  timezone: row.timezone ?? DEFAULT_TIMEZONE,
});
