import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type NamedStatement, namedStatement, preparedByShape } from '../../db/prepared-by-shape.js';
import type { SnapshotBlock } from './snapshots.js';

/**
 * The blocks of one or more /s/ requests of a team stored in one statement, one round trip: the blocks (each uuid once
 * per team), then, for the new ones only, their bytes (when blobs live in Postgres), their recordings' aggregates and
 * their console messages. A single statement is stored all or nothing.
 */

const MAX_URLS = 25;

/** One block as the statement reads it (jsonb_to_recordset). */
interface BlockInput {
  ord: number;
  uuid: string;
  session_id: string;
  window_id: string;
  distinct_id: string;
  first_ts: string;
  last_ts: string;
  first_url: string | null;
  urls: string[];
  event_count: number;
  size: number;
  blob_key: string;
  /** The gzipped JSONL, base64, when the statement stores the bytes. */
  content?: string;
  active_ms: number;
  clicks: number;
  keypresses: number;
  mouse: number;
  logs: number;
  warns: number;
  errors: number;
  snapshot_source: string;
  snapshot_library: string;
  console?: { level: string; message: string }[];
}

/** A block with its blob key, gzipped bytes and PostHog's size (the JSONL's bytes plus one per event). */
export interface BlockRow {
  block: SnapshotBlock;
  key: string;
  content: Buffer;
  size: number;
}

export interface BlocksOptions {
  /** Insert the blocks' bytes into the `blobs` table (BLOB_STORE=postgres) in the same statement. */
  storeBytes: boolean;
  keepConsoleMessages: boolean;
  retentionPeriodDays: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function blockInputs(rows: BlockRow[], { storeBytes, keepConsoleMessages }: Pick<BlocksOptions, 'storeBytes' | 'keepConsoleMessages'>): BlockInput[] {
  return rows.map(({ block, key, content, size }, ord) => {
    const { metadata } = block;
    const input: BlockInput = {
      ord,
      uuid: block.uuid,
      session_id: block.sessionId,
      window_id: block.windowId,
      distinct_id: block.distinctId,
      first_ts: iso(metadata.firstTimestamp),
      last_ts: iso(metadata.lastTimestamp),
      first_url: metadata.urls[0] ?? null,
      urls: metadata.urls,
      event_count: metadata.eventCount,
      size,
      blob_key: key,
      active_ms: metadata.activeMilliseconds,
      clicks: metadata.clickCount,
      keypresses: metadata.keypressCount,
      mouse: metadata.mouseActivityCount,
      logs: metadata.consoleCounts.log,
      warns: metadata.consoleCounts.warn,
      errors: metadata.consoleCounts.error,
      snapshot_source: block.snapshotSource,
      snapshot_library: block.snapshotLibrary,
    };
    if (storeBytes) input.content = content.toString('base64');
    if (keepConsoleMessages && metadata.consoleMessages.length > 0) input.console = metadata.consoleMessages;
    return input;
  });
}

const TEAM = sql`${sql.placeholder('team')}::int`;

const STORE_BYTES = sql`,
  stored_bytes as (insert into blobs (key, content) select blob_key, decode(content, 'base64') from fresh)`;

/**
 * A request's new blocks of one session add to its recording as the blocks would one by one: the earliest block gives
 * the first URL and snapshot source, the URL list keeps the first 25 distinct URLs in time order, counts add up.
 */
function statement({ storeBytes }: Pick<BlocksOptions, 'storeBytes'>): SQL {
  return sql`
  with input as (
    select * from jsonb_to_recordset(${sql.placeholder('input')}::jsonb) as r(
      ord int, uuid uuid, session_id text, window_id text, distinct_id text, first_ts timestamptz, last_ts timestamptz,
      first_url text, urls jsonb, event_count int, size int, blob_key text, content text, active_ms int, clicks int,
      keypresses int, mouse int, logs int, warns int, errors int, snapshot_source text, snapshot_library text, console jsonb)
  ),
  inserted as (
    insert into recording_blocks (team_id, session_id, window_id, uuid, first_timestamp, last_timestamp, first_url, event_count, size, blob_key)
    select ${TEAM}, session_id, window_id, uuid, first_ts, last_ts, first_url, event_count, size, blob_key from input order by ord
    on conflict do nothing
    returning blob_key
  ),
  fresh as (select input.* from input join inserted using (blob_key))${storeBytes ? STORE_BYTES : sql``},
  block_urls as (
    select f.session_id, u.url, row_number() over (partition by f.session_id order by f.first_ts, f.ord, u.n) as position
    from fresh f cross join lateral jsonb_array_elements_text(f.urls) with ordinality as u(url, n)
  ),
  session_urls as (
    select session_id, jsonb_agg(url order by position) as urls from (
      select session_id, url, position, row_number() over (partition by session_id order by position) as rank
      from (select session_id, url, min(position) as position from block_urls group by session_id, url) as firsts
    ) as ranked where rank <= ${sql.raw(String(MAX_URLS))} group by session_id
  ),
  totals as (
    select
      session_id,
      (array_agg(distinct_id order by ord))[1] as distinct_id,
      min(first_ts) as start_time,
      max(last_ts) as end_time,
      sum(active_ms)::int as active_ms, sum(clicks)::int as clicks, sum(keypresses)::int as keypresses, sum(mouse)::int as mouse,
      sum(logs)::int as logs, sum(warns)::int as warns, sum(errors)::int as errors,
      (array_agg(first_url order by first_ts, ord) filter (where first_url is not null))[1] as first_url,
      sum(size)::int as size, sum(event_count)::int as event_count, count(*)::int as blocks,
      (array_agg(snapshot_source order by first_ts, ord))[1] as snapshot_source,
      (array_agg(snapshot_library order by ord))[1] as snapshot_library
    from fresh group by session_id
  ),
  recordings as (
    insert into session_recordings (team_id, session_id, distinct_id, start_time, end_time, active_milliseconds, click_count, keypress_count,
      mouse_activity_count, console_log_count, console_warn_count, console_error_count, first_url, urls, size, event_count, message_count,
      block_count, snapshot_source, snapshot_library, retention_period_days)
    select ${TEAM}, t.session_id, t.distinct_id, t.start_time, t.end_time, t.active_ms, t.clicks, t.keypresses, t.mouse, t.logs, t.warns,
      t.errors, t.first_url, coalesce(u.urls, '[]'::jsonb), t.size, t.event_count, t.blocks, t.blocks, t.snapshot_source, t.snapshot_library,
      ${sql.placeholder('retention')}::int
    from totals t left join session_urls u using (session_id)
    order by t.session_id
    on conflict (team_id, session_id) do update set
      start_time = least(session_recordings.start_time, excluded.start_time),
      end_time = greatest(session_recordings.end_time, excluded.end_time),
      active_milliseconds = session_recordings.active_milliseconds + excluded.active_milliseconds,
      click_count = session_recordings.click_count + excluded.click_count,
      keypress_count = session_recordings.keypress_count + excluded.keypress_count,
      mouse_activity_count = session_recordings.mouse_activity_count + excluded.mouse_activity_count,
      console_log_count = session_recordings.console_log_count + excluded.console_log_count,
      console_warn_count = session_recordings.console_warn_count + excluded.console_warn_count,
      console_error_count = session_recordings.console_error_count + excluded.console_error_count,
      first_url = case when excluded.start_time < session_recordings.start_time and excluded.first_url is not null
        then excluded.first_url else coalesce(session_recordings.first_url, excluded.first_url) end,
      urls = (select coalesce(jsonb_agg(url order by position), '[]'::jsonb) from (
          select url, min(position) as position from (
            select value as url, ordinality + case when excluded.start_time < session_recordings.start_time then 0 else 1000 end as position
              from jsonb_array_elements_text(excluded.urls) with ordinality
            union all
            select value, ordinality + 500 from jsonb_array_elements_text(session_recordings.urls) with ordinality
          ) as candidates group by url order by min(position) limit ${sql.raw(String(MAX_URLS))}
        ) as kept),
      size = session_recordings.size + excluded.size,
      event_count = session_recordings.event_count + excluded.event_count,
      message_count = session_recordings.message_count + excluded.message_count,
      block_count = session_recordings.block_count + excluded.block_count,
      snapshot_source = case when excluded.start_time < session_recordings.start_time then excluded.snapshot_source else session_recordings.snapshot_source end,
      retention_period_days = greatest(session_recordings.retention_period_days, excluded.retention_period_days),
      last_ingested_at = now()
  ),
  console_messages as (
    insert into recording_console_logs (team_id, session_id, level, message, message_hash)
    select ${TEAM}, f.session_id, c.level, c.message, md5(c.message)
    from fresh f cross join lateral jsonb_to_recordset(f.console) as c(level text, message text)
    on conflict do nothing
  )
  select coalesce(json_agg(blob_key), '[]'::json) as keys from inserted`;
}

/** Prepared under its own name, as the events statement (events-repository.ts). */
const statements = preparedByShape<NamedStatement<{ keys: string[] }>>('capture_store_blocks');
const prepared = (options: Pick<BlocksOptions, 'storeBytes'>) =>
  statements(`bytes ${options.storeBytes}`, (name) => namedStatement(name, () => statement(options)));

/** Stores the requests' blocks (see the top of this file); answers, per request, the blob keys of its new blocks. */
export async function storeBlocks(db: Db, teamId: number, requests: BlockRow[][], options: BlocksOptions): Promise<string[][]> {
  const result = await prepared(options)(db, {
    team: teamId,
    retention: options.retentionPeriodDays,
    input: JSON.stringify(blockInputs(requests.flat(), options)),
  });
  const fresh = new Set(result[0]!.keys);
  return requests.map((rows) => rows.map(({ key }) => key).filter((key) => fresh.has(key)));
}
