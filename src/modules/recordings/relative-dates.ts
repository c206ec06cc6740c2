const UNITS: Record<string, (date: Date, n: number) => void> = {
  h: (d, n) => d.setUTCHours(d.getUTCHours() - n),
  d: (d, n) => d.setUTCDate(d.getUTCDate() - n),
  w: (d, n) => d.setUTCDate(d.getUTCDate() - 7 * n),
  m: (d, n) => d.setUTCMonth(d.getUTCMonth() - n),
  q: (d, n) => d.setUTCMonth(d.getUTCMonth() - 3 * n),
  y: (d, n) => d.setUTCFullYear(d.getUTCFullYear() - n),
};

/**
 * PostHog's date parameters: relative (`-3d`, `-24h`, `-1w`, `-1m` a month, `-1q`, `-1y`; `dStart`/`-1dStart` for the
 * start of that day, `mStart`, `yStart`) or an ISO date or date-time (a date alone is midnight UTC). Null when the
 * text is neither.
 */
export function parseDateParam(text: string, now = new Date()): Date | null {
  const relative = /^-?(\d+)?([hdwmqy])(Start|End)?$/.exec(text.trim());
  if (relative) {
    const date = new Date(now);
    UNITS[relative[2]!]!(date, Number(relative[1] ?? 0));
    if (relative[3]) truncate(date, relative[2]!, relative[3] === 'End');
    return date;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function truncate(date: Date, unit: string, toEnd: boolean): void {
  if (unit === 'h') date.setUTCMinutes(0, 0, 0);
  else date.setUTCHours(0, 0, 0, 0);
  if (unit === 'w') date.setUTCDate(date.getUTCDate() - date.getUTCDay());
  if (unit === 'm' || unit === 'q' || unit === 'y') date.setUTCDate(1);
  if (unit === 'q') date.setUTCMonth(date.getUTCMonth() - (date.getUTCMonth() % 3));
  if (unit === 'y') date.setUTCMonth(0);
  if (toEnd) {
    UNITS[unit]!(date, -1);
    date.setUTCMilliseconds(-1);
  }
}
