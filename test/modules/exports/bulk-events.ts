import { sql } from 'drizzle-orm';
import type { Db } from '../../../src/db/client.js';
import { ok } from '../../helpers/api.js';
import type { Call } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/jobs.js';

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

/** Waits for the export's file (an exception fails) and answers its CSV's data rows: no header, no trailing empty line. */
export async function exportedCsvRows(call: Call, base: string, id: number, timeoutMs: number): Promise<string[]> {
  const done = await waitFor(async () => {
    const body = ok(await call('GET', `${base}/${id}/`));
    return body.has_content || body.exception ? body : undefined;
  }, timeoutMs);
  if (done.exception) throw new Error(`export ${id} failed: ${String(done.exception)}`);
  const lines = (await call('GET', `${base}/${id}/content/`)).body.split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(1);
}
