import { z } from 'zod';

export const SESSION_PROPERTY_TYPES = ['DateTime', 'String', 'Numeric', 'Boolean', 'Duration'] as const;
export type SessionPropertyType = (typeof SESSION_PROPERTY_TYPES)[number];

/** PostHog's DefaultChannelTypes, in its order. */
export const DEFAULT_CHANNEL_TYPES = [
  'Cross Network',
  'Paid Search',
  'Paid Social',
  'Paid Video',
  'Paid Shopping',
  'Paid Unknown',
  'Direct',
  'Organic Search',
  'Organic Social',
  'Organic Video',
  'Organic Shopping',
  'Push',
  'SMS',
  'Audio',
  'Email',
  'Referral',
  'Affiliate',
  'Unknown',
] as const;

/** One session property, as get_lazy_session_table_properties builds it. */
export const SessionPropertyDefinitionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    is_numerical: z.boolean(),
    property_type: z.enum(SESSION_PROPERTY_TYPES),
    is_seen_on_filtered_events: z.null(),
    tags: z.array(z.string()),
  })
  .meta({ id: 'SessionPropertyDefinition' });

/** Every match at once: there are few session properties, so there is no pagination. */
export const SessionPropertyDefinitionListSchema = z
  .object({ count: z.number().int(), results: z.array(SessionPropertyDefinitionSchema) })
  .meta({ id: 'SessionPropertyDefinitionList' });

export const SessionPropertyValuesSchema = z
  .object({ results: z.array(z.object({ name: z.string() })), refreshing: z.boolean() })
  .meta({ id: 'SessionPropertyValues' });

export const SessionPropertyDefinitionsQuery = z.object({
  search: z.string().optional().meta({ description: 'Words (\\w+) that must all appear in the property name, in any case' }),
  is_numerical: z.string().optional().meta({ description: '"true": numeric properties only; any other value: the others only' }),
});

export const SessionPropertyValuesQuery = z.object({
  key: z.string().optional().meta({ description: 'The session property, e.g. $entry_utm_source (required)' }),
  value: z.string().optional().meta({ description: 'Only values containing this text, in any case' }),
});

export type SessionPropertyDefinition = z.infer<typeof SessionPropertyDefinitionSchema>;
export type SessionPropertyDefinitionList = z.infer<typeof SessionPropertyDefinitionListSchema>;
export type SessionPropertyValues = z.infer<typeof SessionPropertyValuesSchema>;
