/**
 * When an event happened, as PostHog's ingestion decides it (plugin-server, parseEventTimestamp): a client's clock
 * may be off, so an event's `timestamp` is moved by the difference between the server's clock and the `sent_at` the
 * client stamped on the request; an `offset` (ms before sending) counts back from now; an event without either
 * happened now. A timestamp that is not a date, or more than 23 days ahead, becomes now.
 */

const FUTURE_LIMIT_MS = 23 * 24 * 3600 * 1000;

function parseDate(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value === '') return null;
  const asNumber = Number(value);
  const ms = Number.isFinite(asNumber) && /^\d+$/.test(value) ? asNumber : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

export interface EventClock {
  timestamp: unknown;
  offset: unknown;
  sentAt: unknown;
  /** The event's `$ignore_sent_at` property: its timestamp is taken as it is. */
  ignoreSentAt: boolean;
}

export function eventTimestamp({ timestamp, offset, sentAt, ignoreSentAt }: EventClock, now: Date): string {
  const nowMs = now.getTime();
  let ms = nowMs;
  const stamped = parseDate(timestamp);
  if (timestamp !== undefined && timestamp !== null && timestamp !== '') {
    const sent = parseDate(sentAt);
    ms = stamped === null ? nowMs : sent === null || ignoreSentAt ? stamped : nowMs + (stamped - sent);
  } else if (typeof offset === 'number' && Number.isFinite(offset)) {
    ms = nowMs - offset;
  }
  if (!Number.isFinite(ms) || ms > nowMs + FUTURE_LIMIT_MS || ms < Date.UTC(1970, 0, 1) || ms > Date.UTC(9999, 11, 31)) ms = nowMs;
  return new Date(ms).toISOString();
}
