import type { CapturedEvent } from './events.js';

type Properties = Record<string, unknown>;

const record = (value: unknown): Properties | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Properties) : null;

/** What an event does to its person: `$set` overwrites, `$set_once` fills in what is missing, `$unset` removes. */
export interface PersonUpdate {
  set: Properties;
  setOnce: Properties;
  unset: string[];
}

export function personUpdate(event: CapturedEvent): PersonUpdate {
  const unset = event.properties.$unset;
  return {
    set: record(event.properties.$set) ?? {},
    setOnce: record(event.properties.$set_once) ?? {},
    unset: Array.isArray(unset) ? unset.filter((key): key is string => typeof key === 'string') : [],
  };
}

export function applyPersonUpdate(properties: Properties, update: PersonUpdate): Properties {
  const next: Properties = { ...properties };
  for (const [key, value] of Object.entries(update.setOnce)) if (!(key in next)) next[key] = value;
  Object.assign(next, update.set);
  for (const key of update.unset) delete next[key];
  return next;
}

/** The anonymous id an `$identify` names the person by (`$anon_distinct_id`), when it differs from the event's own. */
export function identifiedAnonymousId(event: CapturedEvent): string | null {
  if (event.event !== '$identify') return null;
  const anonymous = event.properties.$anon_distinct_id;
  return typeof anonymous === 'string' && anonymous !== '' && anonymous !== event.distinctId ? anonymous.slice(0, 200) : null;
}

export const changesProperties = (update: PersonUpdate): boolean =>
  Object.keys(update.set).length + Object.keys(update.setOnce).length + update.unset.length > 0;

/**
 * Whether the event has a person at all: posthog-js marks anonymous visitors' events `$process_person_profile: false`
 * (its default `person_profiles: 'identified_only'`), and PostHog then neither creates nor updates a person for them.
 */
export const processesPerson = (event: CapturedEvent): boolean => event.properties.$process_person_profile !== false;

/** Whether storing the event changes persons beyond giving a new distinct id an empty one: a merge or an update. */
export const changesPerson = (event: CapturedEvent): boolean =>
  processesPerson(event) && (identifiedAnonymousId(event) !== null || changesProperties(personUpdate(event)));
