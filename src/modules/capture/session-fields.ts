import { truncatedText } from '../../lib/postgres-text.js';
import type { CapturedEvent } from './events.js';

/**
 * What one event can give its session (PostHog's raw_sessions): its URL (entry or end URL), its referring domain and
 * its UTM fields and ad click ids. The statement that stores the events (events-repository.ts) aggregates them per
 * `$session_id` over the events that are new: the first and last timestamps, the URL, referring domain and each
 * attribution field of the first event that has them, the URL of the last, and the counts of pageviews, autocaptures
 * and screens.
 */
export interface SessionFields {
  url: string | null;
  referringDomain: string | null;
  attribution: Record<string, string>;
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
const text = (value: unknown, max: number): string | null => (typeof value === 'string' && value !== '' ? truncatedText(value, max) : null);

export function sessionFields(event: CapturedEvent): SessionFields {
  const attribution: Record<string, string> = {};
  for (const name of ATTRIBUTION_PROPERTIES) {
    const value = text(event.properties[name], 400);
    if (value !== null) attribution[name] = value;
  }
  return { url: text(event.currentUrl, MAX_URL), referringDomain: text(event.properties.$referring_domain, 400), attribution };
}
