import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { fromDatabaseError } from '../lib/database-errors.js';
import { ValidationError } from '../lib/errors.js';
import { relativeDateWallClock } from '../lib/relative-date.js';
import { escapeLike } from './like.js';
import type { Db } from './client.js';

/**
 * PostHog's property filters ({key, value, operator, type}) as SQL conditions, with the rules of HogQL's
 * property_to_expr (posthog/hogql/property.py) and the null handling of its ClickHouse printer:
 *
 * - a property is read in its text form (JSON strings unquoted, booleans "true"/"false", numbers as written; a
 *   missing key and JSON null are both SQL null), as HogQL reads `properties.x`;
 * - a list value means any of its values (exact, in, icontains, regex, gt…) or none of them (is_not, not_in,
 *   not_icontains, not_regex); an empty list matches everything, one value is that value;
 * - negative operators (is_not, not_in, not_icontains, not_regex) match a missing property, every other operator
 *   does not (the printer's ifNull(…, 1) and ifNull(…, 0));
 * - gt/gte/lt/lte/min/max compare as numbers when the filter value is a number (or numeric text), otherwise as text
 *   in byte order; between/not_between always compare as numbers; a property that is not a number matches neither;
 * - is_date_* compare instants: ISO 8601 texts (a date, a date and time, with or without an offset; without one in
 *   the project's time zone) and relative dates such as "-7d"; a property that is not such a date matches none;
 * - icontains keeps PostHog's LIKE pattern (`%` and `_` in the value are wildcards); with several values each is a
 *   plain substring, as multiSearchAnyCaseInsensitive;
 * - regex is Postgres' `~` (POSIX ARE), not ClickHouse's re2: most patterns behave alike, but ARE also has
 *   back-references and lookahead. Postgres compiles a pattern only when a row reaches it, so a pattern it rejects
 *   fails the query (SQLSTATE 2201B, a 400 by lib/database-errors.ts) or not depending on the data;
 *   assertRegexesCompile makes that a 400 every time.
 *
 * Keys and values are always bound parameters.
 */

export const PROPERTY_OPERATORS = [
  'exact',
  'is_not',
  'icontains',
  'not_icontains',
  'regex',
  'not_regex',
  'gt',
  'gte',
  'lt',
  'lte',
  'is_set',
  'is_not_set',
  'is_date_exact',
  'is_date_before',
  'is_date_after',
  'between',
  'not_between',
  'min',
  'max',
  'in',
  'not_in',
] as const;

export type PropertyOperator = (typeof PROPERTY_OPERATORS)[number];

const scalarValue = z.union([z.string(), z.number(), z.boolean()]);
/** A filter's value: one scalar or a list of them; null or left out for the operators that take none. */
export const propertyValueSchema = z.union([scalarValue, z.array(scalarValue)]).nullish();
export const propertyOperatorSchema = z.enum(PROPERTY_OPERATORS);
const filterValue = propertyValueSchema;
const operator = propertyOperatorSchema;

export type PropertyValue = z.output<typeof scalarValue>;

const common = { key: z.string(), label: z.string().nullish(), value: filterValue };

/** Python's float() accepts surrounding whitespace and exponents; PostHog's between check uses it. */
const NUMERIC_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?\s*$/;

const isNumeric = (value: PropertyValue): boolean =>
  typeof value === 'number' || (typeof value === 'string' && value.length <= 1000 && NUMERIC_TEXT.test(value));

const VALUELESS: ReadonlySet<PropertyOperator> = new Set(['is_set', 'is_not_set', 'exact', 'is_not']);

/** The problems PostHog reports when it builds the query (QueryError: a 400), checked before any SQL runs. */
function valueProblem(filter: { operator: PropertyOperator; value?: PropertyValue | PropertyValue[] | null }): string | null {
  const { operator, value } = filter;
  if (value === null || value === undefined) return VALUELESS.has(operator) ? null : `${operator} operator requires a value`;
  if (operator === 'between' || operator === 'not_between') {
    if (!Array.isArray(value) || value.length !== 2) return `${operator} operator requires a two-element array [min, max]`;
    if (!value.every(isNumeric)) return `${operator} operator requires numeric values`;
    if (Number(value[0]) > Number(value[1])) return `${operator} operator requires min value to be less than or equal to max value`;
  }
  if (operator.startsWith('is_date_') && [value].flat().some((item) => typeof item !== 'string')) return `${operator} operator requires a date string`;
  return null;
}

const filterOf = (type: z.ZodType<'person' | 'session'>) => z.strictObject({ ...common, type, operator });

/**
 * PostHog's EventPropertyFilter, PersonPropertyFilter and SessionPropertyFilter (extra="forbid"). A filter without
 * a type is an event filter, whose operator defaults to exact, as pydantic reads AnyPropertyFilter.
 */
export const propertyFilterSchema = z.preprocess(
  (input) => (typeof input === 'object' && input !== null && !Array.isArray(input) && !('type' in input) ? { ...input, type: 'event' } : input),
  z
    .discriminatedUnion('type', [
      z.strictObject({ ...common, type: z.literal('event'), operator: operator.nullish().transform((op) => op ?? 'exact') }),
      filterOf(z.literal('person')),
      filterOf(z.literal('session')),
    ])
    .superRefine((filter, ctx) => {
      const problem = valueProblem(filter);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['value'] });
    }),
);

export type PropertyFilter = z.output<typeof propertyFilterSchema>;

/** What a comparison reads of a filter: its operator and value (other filter kinds, such as a recording's, have these too). */
export interface PropertyComparison {
  operator: PropertyOperator;
  value?: PropertyValue | PropertyValue[] | null;
}

/** The type of a column a property is stored in; decides how it compares (sessions' $session_duration is a number). */
export type PropertyColumnType = 'string' | 'number' | 'boolean' | 'datetime';

export interface PropertyColumn {
  sql: SQL;
  type: PropertyColumnType;
}

export interface PropertyConditionOptions {
  /** The instant relative dates ("-7d") count back from; the current time by default. */
  now?: Date;
  /** The project's time zone, for relative dates and dates without an offset; UTC by default. */
  timeZone?: string;
}

/** The options every comparison reads. */
interface Clock {
  now: Date;
  timeZone: string;
}

const clockOf = (options: PropertyConditionOptions): Clock => ({ now: options.now ?? new Date(), timeZone: options.timeZone ?? 'UTC' });

/** A property as the comparisons read it: its text form, and its number and instant when it has one (else null). */
interface Operand {
  text: SQL;
  number: SQL;
  instant: SQL;
  type: PropertyColumnType;
}

/** Constants of this module (never input), inlined so the planner sees them. */
const literal = (text: string): SQL => sql.raw(`'${text.replaceAll("'", "''")}'`);

const NUMBER_PATTERN = literal('^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]{1,3})?\\s*$');
const INSTANT_PATTERN = literal(
  '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' +
    '([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?$',
);
/** An offset after the time; a date alone has none ("2024-05-01" ends in "-01", which is its day). */
const OFFSET_PATTERN = literal(':[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$');

/** text as a number, or null; the length bound keeps the cast within numeric's range. */
const numberOf = (text: SQL): SQL => sql`(case when length(${text}) > 1000 then null when ${text} ~ ${NUMBER_PATTERN} then (${text})::numeric end)`;

/**
 * text as an instant, or null; without an offset, text is a wall clock in timeZone. The pattern admits only valid
 * fields except a day past its month's end (2024-02-30), which the second test catches; CASE runs its tests in
 * order, so no cast can fail.
 */
const instantOf = (text: SQL, timeZone: string): SQL =>
  sql`(case when not (${text} ~ ${INSTANT_PATTERN}) then null
    when substr(${text}, 9, 2)::int > extract(day from (substr(${text}, 1, 7) || '-01')::date + interval '1 month - 1 day') then null
    when ${text} ~ ${OFFSET_PATTERN} then (${text})::timestamptz
    else (${text})::timestamp at time zone ${timeZone}::text end)`;

function jsonOperand(properties: SQL, key: string, { timeZone }: Clock): Operand {
  const text = sql`(${properties} ->> ${key}::text)`;
  return { text, number: numberOf(text), instant: instantOf(text, timeZone), type: 'string' };
}

function columnOperand({ sql: column, type }: PropertyColumn, { timeZone }: Clock): Operand {
  const text = sql`(${column})::text`;
  return {
    text,
    number: type === 'number' ? sql`(${column})::numeric` : type === 'string' ? numberOf(text) : sql`null::numeric`,
    instant: type === 'datetime' ? sql`(${column})::timestamptz` : type === 'string' ? instantOf(text, timeZone) : sql`null::timestamptz`,
    type,
  };
}

const textOf = (value: PropertyValue): string => String(value);
const numberParam = (value: PropertyValue): SQL => sql`${textOf(value).trim()}::numeric`;

function instantParam(value: PropertyValue, { now, timeZone }: Clock): SQL {
  const relative = relativeDateWallClock(textOf(value), now, timeZone);
  return relative ? sql`(${relative}::timestamp at time zone ${timeZone}::text)` : instantOf(sql`${textOf(value)}::text`, timeZone);
}

const orFalse = (condition: SQL): SQL => sql`coalesce(${condition}, false)`;
const orTrue = (condition: SQL): SQL => sql`coalesce(${condition}, true)`;

function equals(operand: Operand, value: PropertyValue): SQL {
  const numeric = typeof value === 'number' || (operand.type === 'number' && isNumeric(value));
  return numeric ? sql`${operand.number} = ${numberParam(value)}` : sql`${operand.text} = ${textOf(value)}::text`;
}

const ORDERINGS = { gt: '>', gte: '>=', min: '>=', lt: '<', lte: '<=', max: '<=' } as const;

function ordered(operand: Operand, symbol: string, value: PropertyValue, clock: Clock): SQL {
  const op = sql.raw(symbol);
  if (operand.type === 'datetime' && !isNumeric(value)) return orFalse(sql`${operand.instant} ${op} ${instantParam(value, clock)}`);
  if (isNumeric(value)) return orFalse(sql`${operand.number} ${op} ${numberParam(value)}`);
  return orFalse(sql`${operand.text} collate "C" ${op} ${textOf(value)}::text collate "C"`);
}

/** Escapes LIKE's wildcards, for the several-values form of icontains, where each value is a plain substring. */
const likeLiteral = (value: PropertyValue): string => escapeLike(textOf(value));

function containsAny(operand: Operand, values: PropertyValue[]): SQL {
  return sql.join(
    values.map((value) => sql`${operand.text} ilike ${`%${likeLiteral(value)}%`}::text`),
    sql` or `,
  );
}

type ScalarOperator = Exclude<PropertyOperator, 'is_set' | 'is_not_set' | 'between' | 'not_between'>;

/** One filter value (never a list) against the operand. */
function scalarCondition(operator: ScalarOperator, operand: Operand, value: PropertyValue, clock: Clock): SQL {
  switch (operator) {
    case 'exact':
    case 'in':
      return orFalse(equals(operand, value));
    case 'is_not':
    case 'not_in':
      return orTrue(sql`not (${equals(operand, value)})`);
    case 'icontains':
      return orFalse(sql`${operand.text} ilike ${`%${textOf(value)}%`}::text`);
    case 'not_icontains':
      return orTrue(sql`${operand.text} not ilike ${`%${textOf(value)}%`}::text`);
    case 'regex':
      return orFalse(sql`${operand.text} ~ ${textOf(value)}::text`);
    case 'not_regex':
      return orTrue(sql`${operand.text} !~ ${textOf(value)}::text`);
    case 'gt':
    case 'gte':
    case 'min':
    case 'lt':
    case 'lte':
    case 'max':
      return ordered(operand, ORDERINGS[operator], value, clock);
    case 'is_date_exact':
      return orFalse(sql`${operand.instant} = ${instantParam(value, clock)}`);
    case 'is_date_before':
      return orFalse(sql`${operand.instant} < ${instantParam(value, clock)}`);
    case 'is_date_after':
      return orFalse(sql`${operand.instant} > ${instantParam(value, clock)}`);
  }
}

const NEGATIVE: ReadonlySet<PropertyOperator> = new Set(['is_not', 'not_in', 'not_icontains', 'not_regex']);

function condition(filter: PropertyComparison, operand: Operand, clock: Clock): SQL {
  const problem = valueProblem(filter);
  if (problem) throw new ValidationError(problem, 'value');
  const { operator } = filter;
  const value = filter.value ?? null;
  // exact and is_not without a value are HogQL's `x = NULL` and `x != NULL`.
  if (operator === 'is_set' || (operator === 'is_not' && value === null)) return sql`(${operand.text} is not null)`;
  if (operator === 'is_not_set' || value === null) return sql`(${operand.text} is null)`;
  if (operator === 'between' || operator === 'not_between') {
    const [min, max] = (value as PropertyValue[]).map(numberParam);
    return operator === 'between'
      ? orFalse(sql`${operand.number} >= ${min} and ${operand.number} <= ${max}`)
      : orFalse(sql`${operand.number} < ${min} or ${operand.number} > ${max}`);
  }
  if (!Array.isArray(value)) return sql`(${scalarCondition(operator, operand, value, clock)})`;
  if (value.length === 0) return sql`true`;
  if (value.length === 1) return sql`(${scalarCondition(operator, operand, value[0]!, clock)})`;
  if (operator === 'icontains') return sql`(${orFalse(containsAny(operand, value))})`;
  if (operator === 'not_icontains') return sql`(${orTrue(sql`not (${containsAny(operand, value)})`)})`;
  const parts = value.map((item) => scalarCondition(operator, operand, item, clock));
  return sql`(${sql.join(parts, NEGATIVE.has(operator) ? sql` and ` : sql` or `)})`;
}

/** The filter as a boolean condition on the property `filter.key` of a jsonb object, e.g. sql`e.properties`. */
export function propertyCondition(filter: PropertyFilter, properties: SQL, options: PropertyConditionOptions = {}): SQL {
  const clock = clockOf(options);
  return condition(filter, jsonOperand(properties, filter.key, clock), clock);
}

/** The filter as a boolean condition on a typed column or expression that holds the property. */
export function columnCondition(filter: PropertyComparison, column: PropertyColumn, options: PropertyConditionOptions = {}): SQL {
  const clock = clockOf(options);
  return condition(filter, columnOperand(column, clock), clock);
}

/** The filter on the column its key maps to (sessions' `$entry_pathname`…); an unknown key is a 400, as in HogQL. */
export function mappedPropertyCondition(
  filter: PropertyFilter,
  columns: Readonly<Record<string, PropertyColumn>>,
  options: PropertyConditionOptions = {},
): SQL {
  const column = Object.hasOwn(columns, filter.key) ? columns[filter.key] : undefined;
  if (!column) throw new ValidationError(`Unknown ${filter.type} property "${filter.key}".`, 'key');
  return columnCondition(filter, column, options);
}

/** Compiles every regex of the filters once, so a pattern Postgres rejects is a 400 even when no row would reach it. */
export async function assertRegexesCompile(db: Db, filters: readonly PropertyComparison[]): Promise<void> {
  const patterns = filters
    .filter((filter) => filter.operator === 'regex' || filter.operator === 'not_regex')
    .flatMap((filter) => [filter.value ?? []].flat().map(textOf));
  await assertPatternsCompile(db, patterns);
}

/** Compiles the regular expressions in Postgres; one it rejects is a ValidationError ("Invalid regular expression."). */
export async function assertPatternsCompile(db: Db, patterns: readonly string[]): Promise<void> {
  if (patterns.length === 0) return;
  const checks = patterns.map((pattern) => sql`'' ~ ${pattern}::text`);
  try {
    await db.execute(sql`select ${sql.join(checks, sql`, `)}`);
  } catch (error) {
    throw fromDatabaseError(error) ?? error;
  }
}
