import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../../src/db/client.js';
import {
  assertRegexesCompile,
  columnCondition,
  mappedPropertyCondition,
  type PropertyColumn,
  propertyCondition,
  type PropertyConditionOptions,
  propertyFilterSchema,
} from '../../src/db/property-filters.js';
import { fromDatabaseError } from '../../src/lib/database-errors.js';
import { ValidationError } from '../../src/lib/errors.js';
import { parseInput } from '../../src/lib/validation.js';
import { openTestDatabase } from '../helpers/database.js';

/** One row per kind of value a property can hold; `p` is the property most tests filter on. */
const ROWS: Record<string, unknown> = {
  str: { p: 'Hello World' },
  num: { p: 42 },
  numstr: { p: '42' },
  big: { p: '10' },
  nine: { p: 9 },
  float: { p: 3.5 },
  true: { p: true },
  false: { p: false },
  null: { p: null },
  missing: { "we'ird\"key": 'x' },
  empty: { p: '' },
  array: { p: [1, 'a'] },
  object: { p: { a: 1 } },
  unicode: { p: 'Ünïcødé 🦔', ключ: 'значение' },
  pct: { p: '100% sure' },
  quote: { p: 'it\'s "quoted"' },
  date: { p: '2024-05-01T10:00:00Z' },
  offset: { p: '2024-05-01T12:00:00+02:00' },
  dateonly: { p: '2024-05-01' },
  badday: { p: '2024-02-30' },
};
const ALL = Object.keys(ROWS).sort();
const allBut = (...ids: string[]): string[] => ALL.filter((id) => !ids.includes(id));
const sorted = (...ids: string[]): string[] => [...ids].sort();

let database: Database;

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.execute(sql`create table property_filter_rows (id text primary key, properties jsonb not null)`);
  for (const [id, properties] of Object.entries(ROWS)) {
    await database.db.execute(sql`insert into property_filter_rows values (${id}, ${JSON.stringify(properties)}::jsonb)`);
  }
});

afterAll(async () => {
  await database?.close();
});

async function ids(condition: SQL): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(database.db, sql`select id from property_filter_rows r where ${condition} order by id collate "C"`);
  return rows.map((row) => row.id);
}

function matching(filter: Record<string, unknown>, options?: PropertyConditionOptions): Promise<string[]> {
  const parsed = propertyFilterSchema.parse({ type: 'event', key: 'p', ...filter });
  return ids(propertyCondition(parsed, sql`r.properties`, options));
}

describe('property filters on a jsonb object', () => {
  it('exact compares the text form; a number value compares as a number; a list is any of its values', async () => {
    expect(await matching({ operator: 'exact', value: 'Hello World' })).toEqual(['str']);
    expect(await matching({ operator: 'exact', value: 'hello world' })).toEqual([]);
    expect(await matching({ operator: 'exact', value: 42 })).toEqual(['num', 'numstr']);
    expect(await matching({ operator: 'exact', value: '42' })).toEqual(['num', 'numstr']);
    expect(await matching({ operator: 'exact', value: 3.5 })).toEqual(['float']);
    expect(await matching({ operator: 'exact', value: '3.50' })).toEqual([]);
    expect(await matching({ operator: 'exact', value: true })).toEqual(['true']);
    expect(await matching({ operator: 'exact', value: 'true' })).toEqual(['true']);
    expect(await matching({ operator: 'exact', value: false })).toEqual(['false']);
    expect(await matching({ operator: 'exact', value: '' })).toEqual(['empty']);
    expect(await matching({ operator: 'exact', value: 'Ünïcødé 🦔' })).toEqual(['unicode']);
    expect(await matching({ operator: 'exact', value: ['Hello World', 9] })).toEqual(['nine', 'str']);
    expect(await matching({ operator: 'exact', value: ['Hello World'] })).toEqual(['str']);
    expect(await matching({ operator: 'exact', value: [] })).toEqual(ALL);
    // Without a value, exact is HogQL's `x = NULL`: missing or JSON null.
    expect(await matching({ operator: 'exact', value: null })).toEqual(['missing', 'null']);
    expect(await matching({ operator: 'exact' })).toEqual(['missing', 'null']);
  });

  it('is_not matches a missing or null property; with a list it is none of the values', async () => {
    expect(await matching({ operator: 'is_not', value: 'Hello World' })).toEqual(allBut('str'));
    expect(await matching({ operator: 'is_not', value: ['Hello World', 42] })).toEqual(allBut('str', 'num', 'numstr'));
    expect(await matching({ operator: 'is_not', value: true })).toEqual(allBut('true'));
    expect(await matching({ operator: 'is_not', value: null })).toEqual(allBut('missing', 'null'));
  });

  it('in and not_in are exact and is_not over a list', async () => {
    expect(await matching({ operator: 'in', value: ['nope', 'Hello World', 9] })).toEqual(['nine', 'str']);
    expect(await matching({ operator: 'in', value: 'Hello World' })).toEqual(['str']);
    expect(await matching({ operator: 'not_in', value: ['Hello World', 9] })).toEqual(allBut('str', 'nine'));
  });

  it('icontains is case-insensitive and keeps LIKE wildcards for one value, plain substrings for several', async () => {
    expect(await matching({ operator: 'icontains', value: 'WORLD' })).toEqual(['str']);
    expect(await matching({ operator: 'icontains', value: 42 })).toEqual(['num', 'numstr']);
    expect(await matching({ operator: 'icontains', value: 'NïC' })).toEqual(['unicode']);
    expect(await matching({ operator: 'icontains', value: '🦔' })).toEqual(['unicode']);
    expect(await matching({ operator: 'icontains', value: "'" })).toEqual(['quote']);
    expect(await matching({ operator: 'icontains', value: '100%' })).toEqual(['pct']);
    expect(await matching({ operator: 'icontains', value: 'H_llo' })).toEqual(['str']);
    expect(await matching({ operator: 'icontains', value: ['H_llo'] })).toEqual(['str']);
    expect(await matching({ operator: 'icontains', value: ['world', 'SURE'] })).toEqual(['pct', 'str']);
    expect(await matching({ operator: 'icontains', value: ['H_llo', '100%'] })).toEqual(['pct']);
  });

  it('not_icontains matches a missing or null property', async () => {
    expect(await matching({ operator: 'not_icontains', value: 'world' })).toEqual(allBut('str'));
    expect(await matching({ operator: 'not_icontains', value: ['world', 'sure'] })).toEqual(allBut('str', 'pct'));
  });

  it('regex and not_regex use the text form; not_regex matches a missing property', async () => {
    expect(await matching({ operator: 'regex', value: '^H.*d$' })).toEqual(['str']);
    expect(await matching({ operator: 'regex', value: '^[0-9]+$' })).toEqual(['big', 'nine', 'num', 'numstr']);
    expect(await matching({ operator: 'regex', value: '^(true|false)$' })).toEqual(['false', 'true']);
    expect(await matching({ operator: 'regex', value: ['^H', '^it'] })).toEqual(['quote', 'str']);
    expect(await matching({ operator: 'regex', value: '🦔$' })).toEqual(['unicode']);
    expect(await matching({ operator: 'not_regex', value: '^[0-9]+$' })).toEqual(allBut('big', 'nine', 'num', 'numstr'));
    expect(await matching({ operator: 'not_regex', value: ['^H', '^it'] })).toEqual(allBut('quote', 'str'));
  });

  it('a regex Postgres rejects is a validation error', async () => {
    const failure = await matching({ operator: 'regex', value: '(unclosed' }).catch((error: unknown) => error);
    const answer = fromDatabaseError(failure);
    expect(answer).toBeInstanceOf(ValidationError);
    expect(answer?.detail).toBe('Invalid regular expression.');
  });

  it('assertRegexesCompile refuses a pattern Postgres rejects before any row is read', async () => {
    const filters = [
      { key: 'p', operator: 'regex', value: '^ok$' },
      { key: 'p', operator: 'not_regex', value: ['fine', '[unclosed'] },
    ].map((filter) => propertyFilterSchema.parse(filter));
    await expect(assertRegexesCompile(database.db, filters.slice(0, 1))).resolves.toBeUndefined();
    await expect(assertRegexesCompile(database.db, filters)).rejects.toThrow(ValidationError);
    await expect(assertRegexesCompile(database.db, [])).resolves.toBeUndefined();
  });

  it('gt, gte, lt, lte, min and max compare numbers when the value is numeric, else text in byte order', async () => {
    expect(await matching({ operator: 'gt', value: 9 })).toEqual(['big', 'num', 'numstr']);
    expect(await matching({ operator: 'gt', value: '9' })).toEqual(['big', 'num', 'numstr']);
    expect(await matching({ operator: 'gte', value: 9 })).toEqual(['big', 'nine', 'num', 'numstr']);
    expect(await matching({ operator: 'min', value: 9 })).toEqual(['big', 'nine', 'num', 'numstr']);
    expect(await matching({ operator: 'lt', value: 10 })).toEqual(['float', 'nine']);
    expect(await matching({ operator: 'lte', value: '10' })).toEqual(['big', 'float', 'nine']);
    expect(await matching({ operator: 'max', value: 10 })).toEqual(['big', 'float', 'nine']);
    expect(await matching({ operator: 'lt', value: -1e21 })).toEqual([]);
    expect(await matching({ operator: 'gt', value: 'Hello' })).toEqual(sorted('array', 'false', 'object', 'quote', 'str', 'true', 'unicode'));
    expect(await matching({ operator: 'lt', value: 'Hello' })).toEqual(
      sorted('badday', 'big', 'date', 'dateonly', 'empty', 'float', 'nine', 'num', 'numstr', 'offset', 'pct'),
    );
    expect(await matching({ operator: 'gt', value: [100, 'true'] })).toEqual(['object', 'unicode']);
  });

  it('between and not_between compare numbers; neither matches a missing or non-numeric property', async () => {
    expect(await matching({ operator: 'between', value: [9, 42] })).toEqual(['big', 'nine', 'num', 'numstr']);
    expect(await matching({ operator: 'between', value: ['3', '9.5'] })).toEqual(['float', 'nine']);
    expect(await matching({ operator: 'between', value: [42, 42] })).toEqual(['num', 'numstr']);
    expect(await matching({ operator: 'not_between', value: [9, 42] })).toEqual(['float']);
  });

  it('is_set and is_not_set look at presence and null; an empty string is set', async () => {
    expect(await matching({ operator: 'is_set', value: 'is_set' })).toEqual(allBut('missing', 'null'));
    expect(await matching({ operator: 'is_not_set', value: 'is_not_set' })).toEqual(['missing', 'null']);
    expect(await matching({ operator: 'is_set' })).toEqual(allBut('missing', 'null'));
  });

  it('is_date_* compare instants of ISO dates and relative dates; other text is no date', async () => {
    expect(await matching({ operator: 'is_date_exact', value: '2024-05-01T10:00:00Z' })).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_exact', value: '2024-05-01 12:00:00+02' })).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_exact', value: '2024-05-01' })).toEqual(['dateonly']);
    expect(await matching({ operator: 'is_date_before', value: '2024-05-01T10:00:00Z' })).toEqual(['dateonly']);
    expect(await matching({ operator: 'is_date_after', value: '2024-05-01' })).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_after', value: '2024-02-28' })).toEqual(['date', 'dateonly', 'offset']);
    expect(await matching({ operator: 'is_date_exact', value: 'yesterday' })).toEqual([]);
    expect(await matching({ operator: 'is_date_before', value: '2024-02-30' })).toEqual([]);

    const now = new Date('2024-05-01T10:30:00Z');
    expect(await matching({ operator: 'is_date_after', value: '-1h' }, { now })).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_before', value: '-1h' }, { now })).toEqual(['dateonly']);
    expect(await matching({ operator: 'is_date_exact', value: '-30M' }, { now })).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_exact', value: '-0dStart' }, { now })).toEqual(['dateonly']);
    expect(await matching({ operator: 'is_date_before', value: '-1m' }, { now })).toEqual([]);
  });

  it('is_date_* read dates without an offset, and relative dates, in the project time zone', async () => {
    const berlin = { timeZone: 'Europe/Berlin' };
    expect(await matching({ operator: 'is_date_exact', value: '2024-05-01 12:00:00' }, berlin)).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_exact', value: '2024-05-01T12:00:00+02:00' }, berlin)).toEqual(['date', 'offset']);
    expect(await matching({ operator: 'is_date_before', value: '2024-05-01T00:00:00Z' }, berlin)).toEqual(['dateonly']);
    expect(await matching({ operator: 'is_date_after', value: '2024-05-01T03:00:00Z' }, { timeZone: 'America/New_York' })).toEqual(
      sorted('date', 'dateonly', 'offset'),
    );
    // 10:30Z is 12:30 in Berlin: the start of that day is Berlin's midnight, which is how the date-only property reads.
    const now = new Date('2024-05-01T10:30:00Z');
    expect(await matching({ operator: 'is_date_exact', value: '-0dStart' }, { now, ...berlin })).toEqual(['dateonly']);
    expect(await matching({ operator: 'is_date_after', value: '-2h' }, { now, ...berlin })).toEqual(['date', 'offset']);
  });

  it('binds keys and values: quotes, unicode and SQL in either are data', async () => {
    expect(await matching({ key: "we'ird\"key", operator: 'exact', value: 'x' })).toEqual(['missing']);
    expect(await matching({ key: 'ключ', operator: 'exact', value: 'значение' })).toEqual(['unicode']);
    const hostileKey = "p'); drop table property_filter_rows; --";
    expect(await matching({ key: hostileKey, operator: 'is_set' })).toEqual([]);
    expect(await matching({ operator: 'exact', value: "' or '1'='1" })).toEqual([]);
    expect(await matching({ operator: 'icontains', value: "%' or 1=1 --" })).toEqual([]);
    expect(await matching({ operator: 'gt', value: "1'; drop table property_filter_rows; --" })).toEqual(allBut('missing', 'null', 'empty'));
    expect(await matching({ operator: 'is_not_set' })).toEqual(['missing', 'null']);

    const filter = propertyFilterSchema.parse({ type: 'person', key: hostileKey, operator: 'regex', value: "'; select 1; --" });
    const { sql: text, params } = new PgDialect().sqlToQuery(propertyCondition(filter, sql`r.properties`));
    expect(text).not.toContain('drop table');
    expect(text).not.toContain('select 1');
    expect(params).toEqual(expect.arrayContaining([hostileKey, "'; select 1; --"]));
  });
});

describe('property filters on typed columns', () => {
  const SESSIONS = sql`(values
    ('a', 12::numeric, '/pricing', true, '2024-05-01T10:00:00Z'::timestamptz),
    ('b', 5.5::numeric, '/about', false, '2024-04-20T00:00:00Z'::timestamptz),
    ('c', null::numeric, null::text, null::boolean, null::timestamptz)
  ) as s(id, duration, pathname, is_bounce, started)`;
  const COLUMNS: Record<string, PropertyColumn> = {
    $session_duration: { sql: sql`s.duration`, type: 'number' },
    $entry_pathname: { sql: sql`s.pathname`, type: 'string' },
    $is_bounce: { sql: sql`s.is_bounce`, type: 'boolean' },
    $start_timestamp: { sql: sql`s.started`, type: 'datetime' },
  };

  async function sessions(filter: Record<string, unknown>, options?: PropertyConditionOptions): Promise<string[]> {
    const parsed = propertyFilterSchema.parse({ type: 'session', ...filter });
    const rows = await queryRows<{ id: string }>(
      database.db,
      sql`select id from ${SESSIONS} where ${mappedPropertyCondition(parsed, COLUMNS, options)} order by id`,
    );
    return rows.map((row) => row.id);
  }

  it('compares a number column as numbers, whatever the value type', async () => {
    expect(await sessions({ key: '$session_duration', operator: 'gt', value: '10' })).toEqual(['a']);
    expect(await sessions({ key: '$session_duration', operator: 'exact', value: '12.0' })).toEqual(['a']);
    expect(await sessions({ key: '$session_duration', operator: 'lt', value: 100 })).toEqual(['a', 'b']);
    expect(await sessions({ key: '$session_duration', operator: 'between', value: [5, 6] })).toEqual(['b']);
    expect(await sessions({ key: '$session_duration', operator: 'is_not', value: 12 })).toEqual(['b', 'c']);
    expect(await sessions({ key: '$session_duration', operator: 'is_not_set' })).toEqual(['c']);
  });

  it('compares text, booleans and instants in their columns', async () => {
    expect(await sessions({ key: '$entry_pathname', operator: 'icontains', value: 'PRIC' })).toEqual(['a']);
    expect(await sessions({ key: '$entry_pathname', operator: 'not_regex', value: '^/p' })).toEqual(['b', 'c']);
    expect(await sessions({ key: '$is_bounce', operator: 'exact', value: true })).toEqual(['a']);
    expect(await sessions({ key: '$is_bounce', operator: 'exact', value: 'false' })).toEqual(['b']);
    expect(await sessions({ key: '$start_timestamp', operator: 'is_date_after', value: '2024-04-25' })).toEqual(['a']);
    expect(await sessions({ key: '$start_timestamp', operator: 'gt', value: '2024-04-25' })).toEqual(['a']);
    expect(await sessions({ key: '$start_timestamp', operator: 'lt', value: '-7d' }, { now: new Date('2024-05-01T12:00:00Z') })).toEqual(['b']);
  });

  it('refuses a key the map does not hold', async () => {
    const parsed = propertyFilterSchema.parse({ type: 'session', key: 'constructor', operator: 'exact', value: 'x' });
    expect(() => mappedPropertyCondition(parsed, COLUMNS)).toThrow(ValidationError);
    expect(() => columnCondition(parsed, COLUMNS.$entry_pathname!)).not.toThrow();
  });
});

describe('property filter schema', () => {
  const parse = (input: unknown) => parseInput(propertyFilterSchema, input);

  it('takes PostHog event, person and session filters; an event filter defaults its type and operator', () => {
    expect(parse({ key: '$browser', value: 'Chrome' })).toEqual({ key: '$browser', value: 'Chrome', type: 'event', operator: 'exact' });
    expect(parse({ key: 'email', value: ['a', 1, true], operator: 'icontains', type: 'person', label: null })).toMatchObject({ type: 'person' });
    expect(parse({ key: '$entry_pathname', operator: 'is_set', type: 'session' })).toMatchObject({ type: 'session' });
  });

  it('refuses unknown operators, types and fields, values of the wrong shape, and bad between or date values', () => {
    expect(() => parse({ key: 'a', value: 'b', operator: 'sounds_like', type: 'event' })).toThrow(ValidationError);
    expect(() => parse({ key: 'a', value: 'b', operator: 'exact', type: 'cohort' })).toThrow(ValidationError);
    expect(() => parse({ key: 'a', value: 'b', type: 'person' })).toThrow(ValidationError);
    expect(() => parse({ key: 'a', value: 'b', operator: 'exact', type: 'event', extra: 1 })).toThrow(ValidationError);
    expect(() => parse({ key: 'a', value: { b: 1 }, operator: 'exact', type: 'event' })).toThrow(ValidationError);
    expect(() => parse({ key: 'a', operator: 'gt', type: 'event' })).toThrow('gt operator requires a value');
    expect(() => parse({ key: 'a', value: [1], operator: 'between', type: 'event' })).toThrow('between operator requires a two-element array [min, max]');
    expect(() => parse({ key: 'a', value: ['x', 2], operator: 'not_between', type: 'event' })).toThrow('not_between operator requires numeric values');
    expect(() => parse({ key: 'a', value: [5, 1], operator: 'between', type: 'event' })).toThrow(
      'between operator requires min value to be less than or equal to max value',
    );
    expect(() => parse({ key: 'a', value: 5, operator: 'is_date_after', type: 'event' })).toThrow('is_date_after operator requires a date string');
  });
});
