import { z } from 'zod';
import { ValidationError } from '../../lib/errors.js';
import type { TeamAccess } from '../identity/index.js';
import { DEFAULT_CHANNEL_TYPES, type SessionPropertyDefinition, type SessionPropertyDefinitionList, type SessionPropertyValues } from './contract.js';
import { displayValues } from './display.js';
import { isNumerical, propertyType, SESSION_PROPERTIES, type SessionProperty, sessionProperty } from './properties.js';
import type { SessionsRepository } from './repository.js';

export const KEY_NOT_PROVIDED = 'Key not provided';

export interface SessionsServiceDeps {
  sessions: SessionsRepository;
}

/** The channel names of the team's custom channel rules (the `customChannelTypeRules` of its HogQL modifiers). */
const CustomChannelRules = z.object({ customChannelTypeRules: z.array(z.object({ channel_type: z.string() })) });

function customChannelTypes(team: TeamAccess): string[] {
  const parsed = CustomChannelRules.safeParse(team.team.settings.modifiers);
  return parsed.success ? parsed.data.customChannelTypeRules.map((rule) => rule.channel_type) : [];
}

/** Python's re.findall(r"\w+", search.lower()). */
const searchWords = (search: string): string[] => search.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];

function toDefinition(property: SessionProperty): SessionPropertyDefinition {
  return {
    id: property.name,
    name: property.name,
    is_numerical: isNumerical(property),
    property_type: propertyType(property),
    is_seen_on_filtered_events: null,
    tags: [],
  };
}

/** Session properties and their values (PostHog's SessionViewSet), from the aggregates capture keeps in raw_sessions. */
export function createSessionsService({ sessions }: SessionsServiceDeps) {
  return {
    /** Every property whose lowercased name holds all the search's words; with `numerical`, "true" (any case) or not. */
    propertyDefinitions(search: string | undefined, numerical: string | undefined): SessionPropertyDefinitionList {
      const words = search ? searchWords(search) : [];
      const results = SESSION_PROPERTIES.filter((property) => words.every((word) => property.name.toLowerCase().includes(word)))
        .filter((property) => numerical === undefined || isNumerical(property) === (numerical.toLowerCase() === 'true'))
        .map(toDefinition);
      return { count: results.length, results };
    },

    async values(team: TeamAccess, key: string | undefined, search: string | undefined): Promise<SessionPropertyValues> {
      if (!key) throw new ValidationError(KEY_NOT_PROVIDED);
      return { results: displayValues(await valuesOf(team, key, search || null)).map((name) => ({ name })), refreshing: false };
    },
  };

  /** The raw values, before PostHog's JSON decoding and flattening. */
  async function valuesOf(team: TeamAccess, key: string, search: string | null): Promise<string[]> {
    // Custom channel names come first and, as in PostHog, are not filtered by the search.
    if (key === '$channel_type') {
      const defaults = DEFAULT_CHANNEL_TYPES.filter((name) => search === null || name.toLowerCase().includes(search.toLowerCase()));
      return [...new Set([...customChannelTypes(team), ...defaults])];
    }
    const property = sessionProperty(key);
    if (property?.kind === 'boolean') return ['1', '0'];
    if (property?.kind !== 'string' || !property.stored) return [];
    return sessions.topValues(team.team.id, property.stored, search);
  }
}

export type SessionsService = ReturnType<typeof createSessionsService>;
