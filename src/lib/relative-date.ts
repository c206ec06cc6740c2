/**
 * PostHog's relative dates ("-7d", "-1dStart", "-3m", "-10M"), resolved as posthog/utils.py's relative_date_parse
 * does without truncation: h hours, d days, w weeks, m months, M minutes, s seconds, q 13 weeks, y years; Start/End
 * pin the hour, day, month or year. Other letters (H, D, W, Q, Y, S) match but move nothing, as in PostHog.
 * Burrow resolves them in UTC, where PostHog uses the project's time zone.
 */
const RELATIVE_DATE = /^-?(\d+)([hdwmqysHDWMQY])(Start|End)?/;

interface Delta {
  months: number;
  days: number;
  ms: number;
  /** Absolute fields dateutil's relativedelta sets before it adds the relative ones. */
  day?: number;
  month?: number;
  time?: [hour: number | undefined, minute: number, second: number, microsecond: number];
}

const HOUR = 3_600_000;

function deltaFor(count: number, kind: string, position: string | undefined): Delta {
  const start = position === 'Start';
  const end = position === 'End';
  switch (kind) {
    case 'h':
      return { months: 0, days: 0, ms: count * HOUR, time: start ? [undefined, 0, 0, 0] : end ? [undefined, 59, 59, 999_999] : undefined };
    case 'd':
      return { months: 0, days: count, ms: 0, time: start ? [0, 0, 0, 0] : end ? [23, 59, 59, 999_999] : undefined };
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

/** now minus the relative date, to the second (PostHog formats it as "%Y-%m-%d %H:%M:%S"); null when not relative. */
export function resolveRelativeDate(value: string, now: Date = new Date()): Date | null {
  const match = RELATIVE_DATE.exec(value);
  if (!match) return null;
  const delta = deltaFor(Number(match[1]), match[2]!, match[3]);
  // relativedelta: the absolute month, then the relative months, then the day clamped to that month's length.
  const monthIndex = now.getUTCFullYear() * 12 + (delta.month === undefined ? now.getUTCMonth() : delta.month - 1) - delta.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const day = Math.min(daysInMonth(year, month), delta.day ?? now.getUTCDate());
  const [hour = now.getUTCHours(), minute, second, microsecond] = delta.time ?? [
    now.getUTCHours(),
    now.getUTCMinutes(),
    now.getUTCSeconds(),
    now.getUTCMilliseconds() * 1000,
  ];
  const pinned = Date.UTC(year, month, day, hour, minute, second, Math.floor(microsecond / 1000));
  const resolved = pinned - delta.days * 86_400_000 - delta.ms;
  return new Date(resolved - (resolved % 1000 + 1000) % 1000);
}
