/**
 * Postgres prints timestamptz as "2024-05-01 12:34:56.789+00" (the session time zone is UTC).
 * PostHog (Python's isoformat) prints "2024-05-01T12:34:56.789000Z": six fraction digits, or none when zero.
 */
export function isoZ(pg: string): string;
export function isoZ(pg: string | null): string | null;
export function isoZ(pg: string | null): string | null {
  if (pg === null) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|\+00(?::?00)?)$/.exec(pg);
  if (!m) return fromDate(new Date(pg));
  const fraction = m[3] ? m[3].padEnd(6, '0') : '';
  return `${m[1]}T${m[2]}${fraction && !/^0+$/.test(fraction) ? `.${fraction}` : ''}Z`;
}

export function fromDate(date: Date): string {
  const iso = date.toISOString();
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? iso.replace(/\.\d{3}Z$/, 'Z') : iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const nowIso = (): string => new Date().toISOString();

/** Milliseconds since epoch of a timestamp as Postgres prints it. */
export function epochMs(pg: string): number {
  return Date.parse(isoZ(pg));
}
