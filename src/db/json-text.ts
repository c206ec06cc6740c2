import { type SQL, sql, type SQLWrapper } from 'drizzle-orm';

/**
 * Response JSON built by Postgres, so that a long list is neither parsed into objects nor printed again per row.
 * Postgres prints text, numbers and booleans as JSON.stringify does (to_json escapes strings as it does), but jsonb
 * with spaces, in its own key order and with its own number forms: jsonb values are therefore marked in the text
 * (between two U+0001, which JSON text never holds unescaped) and printJson prints them as JSON.stringify prints
 * them parsed, which is what the driver and the serializer did.
 */
const MARK = '\u0001';

/** A text, number or boolean as JSON; SQL null prints null. */
export const jsonValue = (value: SQLWrapper): SQL => sql`coalesce(to_json(${value})::text, 'null')`;

/** A jsonb value, marked for printJson; SQL null prints null. */
export const jsonbValue = (value: SQLWrapper): SQL => sql`chr(1) || coalesce(${value}::text, 'null') || chr(1)`;

/** A timestamptz as isoZ prints it (lib/time.ts), as a JSON string: six fraction digits, none when they are all zero. */
export const jsonTimestamp = (value: SQLWrapper): SQL =>
  sql`coalesce('"' || replace(to_char(${value} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || 'Z"', 'null')`;

const literal = (text: string): SQL => sql.raw(`'${text.replace(/'/g, "''")}'`);

/**
 * An object's JSON text from its fields' (jsonValue, jsonbValue, jsonTimestamp, a nested jsonObject, ...), in the
 * given order; `null` when `nullWhen` holds, as for a left-joined row that is missing.
 */
export function jsonObject(fields: [key: string, value: SQL][], nullWhen?: SQL): SQL {
  const parts = fields.flatMap(([key, value], i) => [literal(`${i === 0 ? '{' : ','}${JSON.stringify(key)}:`), value]);
  const text = sql.join([...parts, literal('}')], sql` || `);
  return nullWhen === undefined ? text : sql`case when ${nullWhen} then 'null' else ${text} end`;
}

/** The JSON array of a query's rows (see jsonObject), in the order of `position`: `[]` when there are none. */
export const jsonArray = (entry: SQLWrapper, position: SQLWrapper): SQL =>
  sql`'[' || coalesce(string_agg(${entry}, ',' order by ${position}), '') || ']'`;

/** JSON text as Postgres built it, its marked jsonb values printed as JSON.stringify prints them parsed. */
export function printJson(text: string): string {
  let start = text.indexOf(MARK);
  if (start === -1) return text;
  let printed = '';
  let from = 0;
  while (start !== -1) {
    const end = text.indexOf(MARK, start + 1);
    printed += text.slice(from, start) + JSON.stringify(JSON.parse(text.slice(start + 1, end)));
    from = end + 1;
    start = text.indexOf(MARK, from);
  }
  return printed + text.slice(from);
}
