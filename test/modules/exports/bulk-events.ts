import { sql } from 'drizzle-orm';
import type { Db } from '../../../src/db/client.js';

/** Where bulk events start: event n (1-based) happened n seconds later. */
const FIRST = '2026-11-01T00:00:00Z';

/**
 * `count` captured events straight into the events table (one INSERT … SELECT, as capture leaves them), for exports
 * large enough to take a while: event `e`, distinct id `u-<n mod 100>`, properties `{"n": n}`, event n at FIRST + n s,
 * so an EventsQuery export (newest first) lists n from `count` down to 1.
 */
export async function insertBulkEvents(db: Db, teamId: number, count: number): Promise<void> {
  await db.execute(sql`
    insert into events (team_id, uuid, event, distinct_id, timestamp, properties)
    select ${teamId}, gen_random_uuid(), 'e', 'u-' || (n % 100), ${FIRST}::timestamptz + n * interval '1 second', jsonb_build_object('n', n)
    from generate_series(1, ${count}::int) as n`);
}

/** The EventsQuery export of those events: one column, properties.n. */
export const BULK_EXPORT = { export_format: 'text/csv', export_context: { source: { kind: 'EventsQuery', select: ['properties.n'] } } } as const;

/** The data rows of such an export's CSV (its header and a trailing empty line left out). */
export function csvRows(csv: string): string[] {
  const lines = csv.split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(1);
}
