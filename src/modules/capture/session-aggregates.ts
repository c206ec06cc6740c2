import type { CapturedEvent } from './events.js';

/**
 * What a request's events add to their sessions (PostHog's raw_sessions): per `$session_id`, the first and last
 * timestamps, the URLs and attribution of the first event that has them, the URL of the last, and the counts of
 * pageviews, autocaptures and screens.
 */
export interface SessionAggregate {
  sessionId: string;
  distinctId: string;
  startTimestamp: string;
  endTimestamp: string;
  entryUrl: string | null;
  endUrl: string | null;
  entryReferringDomain: string | null;
  entryAttribution: Record<string, string>;
  pageviewCount: number;
  autocaptureCount: number;
  screenCount: number;
}

/** The UTM fields and ad click ids PostHog keeps as `$entry_<name>` session properties. */
export const ATTRIBUTION_PROPERTIES = [
  'utm_source',
  'utm_campaign',
  'utm_medium',
  'utm_term',
  'utm_content',
  'gclid',
  'gad_source',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'fbclid',
  'msclkid',
  'twclid',
  'li_fat_id',
  'mc_cid',
  'igshid',
  'ttclid',
  '_kx',
  'irclid',
] as const;

export type AttributionProperty = (typeof ATTRIBUTION_PROPERTIES)[number];

const MAX_URL = 4096;
const text = (value: unknown, max: number): string | null => (typeof value === 'string' && value !== '' ? value.slice(0, max) : null);

export function sessionAggregates(events: CapturedEvent[]): SessionAggregate[] {
  const bySession = new Map<string, CapturedEvent[]>();
  for (const event of events) {
    if (event.sessionId === null) continue;
    const list = bySession.get(event.sessionId);
    if (list) list.push(event);
    else bySession.set(event.sessionId, [event]);
  }
  return [...bySession].map(([sessionId, list]) => {
    const sorted = [...list].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    const first = sorted[0]!;
    const last = sorted[sorted.length - 1]!;
    const firstWith = (read: (e: CapturedEvent) => string | null) => sorted.map(read).find((v) => v !== null) ?? null;
    const entryAttribution: Record<string, string> = {};
    for (const name of ATTRIBUTION_PROPERTIES) {
      const value = firstWith((e) => text(e.properties[name], 400));
      if (value !== null) entryAttribution[name] = value;
    }
    const count = (name: string) => list.filter((e) => e.event === name).length;
    return {
      sessionId,
      distinctId: first.distinctId,
      startTimestamp: first.timestamp,
      endTimestamp: last.timestamp,
      entryUrl: firstWith((e) => text(e.currentUrl, MAX_URL)),
      endUrl: [...sorted].reverse().map((e) => text(e.currentUrl, MAX_URL)).find((v) => v !== null) ?? null,
      entryReferringDomain: firstWith((e) => text(e.properties.$referring_domain, 400)),
      entryAttribution,
      pageviewCount: count('$pageview'),
      autocaptureCount: count('$autocapture'),
      screenCount: count('$screen'),
    };
  });
}
