/**
 * bench/capture's baseline: what a capture endpoint cannot do less than. Bare Fastify with a pg.Pool of Burrow's size;
 * per request it gunzips the body, parses it, and inserts the events as they came (/e/: one row per event, one
 * multi-row statement; /s/: one row per `$snapshot` holding its rrweb events as gzip JSONL) with the same
 * once-per-uuid rule, in one statement per request. No token check, no validation, no metadata, no persons,
 * sessions or heatmap points. Same environment as the other baselines (bench/lib/baseline-server.ts).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { baselinePool, serveBaseline } from '../lib/baseline-server.js';

const pool = baselinePool();
await pool.query(`
  create table if not exists baseline_events (id bigserial primary key, uuid uuid not null unique, event text not null,
    distinct_id text not null, timestamp timestamptz not null, properties jsonb not null);
  create table if not exists baseline_blocks (id bigserial primary key, uuid uuid not null unique, session_id text not null,
    content bytea not null)`);

const app = Fastify({ bodyLimit: 25 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

type RawEvent = { uuid: string; event: string; timestamp?: string; properties: Record<string, unknown> & { distinct_id?: string } };

app.post('/e/', async (request) => {
  const { batch } = JSON.parse(gunzipSync(request.body as Buffer).toString('utf8')) as { batch: RawEvent[] };
  const values: unknown[] = [];
  const rows = batch.map((e, i) => {
    values.push(e.uuid, e.event, e.properties.distinct_id ?? '', e.timestamp ?? new Date().toISOString(), JSON.stringify(e.properties));
    return `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})`;
  });
  await pool.query(`insert into baseline_events (uuid, event, distinct_id, timestamp, properties) values ${rows.join(', ')} on conflict do nothing`, values);
  return { status: 'Ok' };
});

app.post('/s/', async (request) => {
  const snapshots = JSON.parse(gunzipSync(request.body as Buffer).toString('utf8')) as RawEvent[];
  const values: unknown[] = [];
  const rows = snapshots.map((e, i) => {
    const sessionId = String(e.properties.$session_id);
    const jsonl = (e.properties.$snapshot_data as object[]).map((item) => JSON.stringify([e.properties.$window_id ?? sessionId, item])).join('\n');
    values.push(e.uuid, sessionId, gzipSync(jsonl));
    return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`;
  });
  await pool.query(`insert into baseline_blocks (uuid, session_id, content) values ${rows.join(', ')} on conflict do nothing`, values);
  return { status: 'Ok' };
});

await serveBaseline(app, pool);
