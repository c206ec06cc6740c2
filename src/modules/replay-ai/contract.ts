import { z } from 'zod';
import { PROPERTY_OPERATORS } from '../../db/property-filters.js';

export const REGEX_ENGINES = ['javascript', 're2'] as const;
export type RegexEngine = (typeof REGEX_ENGINES)[number];

/** `regex` is optional here so that its absence gets PostHog's own message rather than the generic one. */
export const AiRegexBody = z.object({
  regex: z.string().optional().meta({ description: 'What the regex should match, in plain words (required)' }),
  engine: z.enum(REGEX_ENGINES).optional().meta({ description: 'The dialect to write: javascript (default, lookaround allowed) or re2 (none)' }),
});

/** What the model answers: a regex, or why there is none. Without an id, so its JSON schema has an object at its root. */
export const AiRegexOutput = z.object({
  result: z.enum(['success', 'error']),
  data: z.object({ output: z.string().meta({ description: 'The regex on success, else a message for the user' }) }),
});
export const AiRegexResponse = AiRegexOutput.meta({ id: 'AiRegexResponse' });

export const AiChatMessage = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });

export const AiFiltersBody = z.object({
  messages: z.array(AiChatMessage).min(1).meta({ description: 'The whole conversation so far, oldest first' }),
});

/** PostHog's filter types of RecordingUniversalFilters. */
export const AI_FILTER_TYPES = [
  'meta',
  'event',
  'person',
  'element',
  'session',
  'cohort',
  'recording',
  'log_entry',
  'group',
  'hogql',
  'data_warehouse',
  'data_warehouse_person_property',
] as const;

const AiPropertyFilter = z.object({
  key: z.string(),
  type: z.enum(AI_FILTER_TYPES),
  value: z.array(z.string()).nullable(),
  operator: z.enum(PROPERTY_OPERATORS),
});
const operand = z.enum(['AND', 'OR']);

/** The historical AI_FILTER_SCHEMA: a filter group of groups of property filters, two levels deep. */
export const AiFiltersOutput = z.object({
  result: z.enum(['filter', 'question', 'maxai']),
  data: z.object({
    question: z.string().meta({ description: 'The clarifying question (result "question"), else empty' }),
    date_from: z.string().meta({ description: 'Relative (-5d) or YYYY-MM-DD' }),
    date_to: z.string().nullable(),
    filter_group: z.object({ type: operand, values: z.array(z.object({ type: operand, values: z.array(AiPropertyFilter) })) }),
  }),
});
export const AiFiltersResponse = AiFiltersOutput.meta({ id: 'AiFiltersResponse' });

export type AiRegexInput = z.infer<typeof AiRegexBody>;
export type AiRegexAnswer = z.infer<typeof AiRegexOutput>;
export type AiFiltersInput = z.infer<typeof AiFiltersBody>;
export type AiFiltersAnswer = z.infer<typeof AiFiltersOutput>;
