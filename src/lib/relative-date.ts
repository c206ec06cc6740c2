/**
 * PostHog's relative dates ("-7d", "-1dStart", "-3m", "-10M"), resolved as posthog/utils.py's relative_date_parse
 * does without truncation: h hours, d days, w weeks, m months, M minutes, s seconds, q 13 weeks, y years; Start/End
 * pin the hour, day, month or year. Other letters (H, D, W, Q, Y, S) match but move nothing, as in PostHog.
 * Like Python's datetime arithmetic, the moves are on the wall clock of the project's time zone.
 */
const RELATIVE_DATE = /^-?(\d+)([hdwmqysHDWMQY])(Start|End)?/;

interface Delta {
  months: number;
  days: number;
  ms: number;
  /** Absolute fields dateutil's relativedelta sets before it adds the relative ones. */
  day?: number;
  month?: number;
  time?: [hour: number | undefined, minute: number, second: number];
}

const HOUR = 3_600_000;

function deltaFor(count: number, kind: string, position: string | undefined): Delta {
  const start = position === 'Start';
  const end = position === 'End';
  switch (kind) {
    case 'h':
      return { months: 0, days: 0, ms: count * HOUR, time: start ? [undefined, 0, 0] : end ? [undefined, 59, 59] : undefined };
    case 'd':
      return { months: 0, days: count, ms: 0, time: start ? [0, 0, 0] : end ? [23, 59, 59] : undefined };
    case 'w':
      return { months: 0, days: 7 * count, ms: 0 };
    case 'q':
      return { months: 0, days: 91 * count, ms: 0 };
    case 'm':
      return { months: count, days: 0, ms: 0, day: start ? 1 : end ? 31 : undefined };
    case 'y':
      return { months: 12 * count, days: 0, ms: 0, month: start ? 1 : undefined, day: start ? 1 : end ? 31 : undefined };
    case 'M':
      return { months: 0, days: 0, ms: count * 60_000 };
    case 's':
      return { months: 0, days: 0, ms: count * 1000 };
    default:
      return { months: 0, days: 0, ms: 0 };
  }
}

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/** One formatter per time zone: making one costs far more than using it (a schedule's next date uses a dozen). */
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();
const WALL_CLOCK_FORMATS_MAX = 1000;

function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = wallClockFormats.get(timeZone);
  if (!format) {
    // Throws a RangeError for an unknown time zone, as before: nothing is kept then.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (wallClockFormats.size >= WALL_CLOCK_FORMATS_MAX) wallClockFormats.clear();
    wallClockFormats.set(timeZone, format);
  }
  return format;
}

/** The wall clock of timeZone at an instant, as a Date whose UTC fields are that wall clock. */
export function wallClock(instant: Date, timeZone: string): Date {
  const parts = wallClockFormat(timeZone).formatToParts(instant);
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((part) => part.type === type)?.value);
  return new Date(Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second')));
}

/**
 * now minus the relative date, as wall-clock time in timeZone to the second ("2024-05-01 10:00:00", the
 * "%Y-%m-%d %H:%M:%S" PostHog hands to ClickHouse with the project's time zone); null when value is not relative.
 */
export function relativeDateWallClock(value: string, now: Date, timeZone: string): string | null {
  const match = RELATIVE_DATE.exec(value);
  if (!match) return null;
  const delta = deltaFor(Number(match[1]), match[2]!, match[3]);
  const wall = wallClock(now, timeZone);
  // relativedelta: the absolute month, then the relative months, then the day clamped to that month's length.
  const monthIndex = wall.getUTCFullYear() * 12 + (delta.month === undefined ? wall.getUTCMonth() : delta.month - 1) - delta.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const day = Math.min(daysInMonth(year, month), delta.day ?? wall.getUTCDate());
  const [hour = wall.getUTCHours(), minute, second] = delta.time ?? [wall.getUTCHours(), wall.getUTCMinutes(), wall.getUTCSeconds()];
  const resolved = new Date(Date.UTC(year, month, day, hour, minute, second) - delta.days * 86_400_000 - delta.ms);
  return resolved.toISOString().slice(0, 19).replace('T', ' ');
}
