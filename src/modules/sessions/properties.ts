import { ATTRIBUTION_PROPERTIES, type AttributionProperty } from '../capture/index.js';
import type { SessionPropertyType } from './contract.js';

/** What raw_sessions holds of a text property: a column, the path of a URL column, or a key of the entry attribution. */
export type StoredText =
  | { column: 'entry_url' | 'end_url' | 'entry_referring_domain' }
  | { pathOf: 'entry_url' | 'end_url' }
  | { attribution: AttributionProperty };

type FieldKind = 'datetime' | 'string' | 'integer' | 'float' | 'boolean';

export interface SessionProperty {
  name: string;
  kind: FieldKind;
  /** Where its values are listed from; absent for a string PostHog lists no values of, or one Burrow does not store. */
  stored?: StoredText;
}

const field = (name: string, kind: FieldKind, stored?: StoredText): SessionProperty => ({ name, kind, ...(stored && { stored }) });

/**
 * The session properties PostHog's v2 sessions table shows, in its order, without the hidden ones (ids, team_id,
 * distinct_id, max_inserted_at, $urls, $num_uniq_urls, the deprecated `duration` and the v1 aliases `$exit_*`).
 * Hostnames are not among the values PostHog lists; `$last_external_click_url` and `$vitals_lcp` are not stored.
 */
export const SESSION_PROPERTIES: readonly SessionProperty[] = [
  field('$start_timestamp', 'datetime'),
  field('$end_timestamp', 'datetime'),
  field('$entry_current_url', 'string', { column: 'entry_url' }),
  field('$entry_pathname', 'string', { pathOf: 'entry_url' }),
  field('$entry_hostname', 'string'),
  field('$end_current_url', 'string', { column: 'end_url' }),
  field('$end_pathname', 'string', { pathOf: 'end_url' }),
  field('$end_hostname', 'string'),
  field('$entry_referring_domain', 'string', { column: 'entry_referring_domain' }),
  ...ATTRIBUTION_PROPERTIES.map((name) => field(`$entry_${name}`, 'string', { attribution: name })),
  field('$pageview_count', 'integer'),
  field('$autocapture_count', 'integer'),
  field('$screen_count', 'integer'),
  field('$channel_type', 'string'),
  field('$session_duration', 'integer'),
  field('$is_bounce', 'boolean'),
  field('$last_external_click_url', 'string'),
  field('$vitals_lcp', 'float'),
];

const BY_NAME = new Map(SESSION_PROPERTIES.map((property) => [property.name, property]));

export const sessionProperty = (name: string): SessionProperty | undefined => BY_NAME.get(name);

export const isNumerical = (property: SessionProperty): boolean => property.kind === 'integer' || property.kind === 'float';

export function propertyType(property: SessionProperty): SessionPropertyType {
  if (property.name === '$session_duration') return 'Duration';
  if (isNumerical(property)) return 'Numeric';
  if (property.kind === 'datetime') return 'DateTime';
  if (property.kind === 'boolean') return 'Boolean';
  return 'String';
}
