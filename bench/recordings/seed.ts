/**
 * Recordings straight into the tables (as capture would leave them), for a team: session_recordings spread over the
 * last 30 days, their sessions, persons for a fifth of the distinct ids, three events per session (a pageview, an
 * autocapture and, for one session in twenty, a `purchase` with plan "pro"), and for the newest recordings five
 * blocks each with their bytes in the blobs table.
 */
import { gzipSync } from 'node:zlib';
import pg from 'pg';

/** Recordings that get blocks: the snapshot fetch reads the newest one. */
const WITH_BLOCKS = 20;
const BLOCKS_PER_RECORDING = 5;

/** One block's bytes: 40 rrweb events of a window, gzip JSONL as capture stores them. */
function blockContent(sessionId: string, start: number): Buffer {
  const lines = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify([`${sessionId}-w`, { type: 3, timestamp: start + i * 100, data: { source: 1, positions: [{ x: i, y: i * 2, id: 7, timeOffset: 0 }] } }]),
  );
  return gzipSync(lines.join('\n'));
}

export async function seedRecordings(url: string, teamId: number, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const prefix = `t${teamId}-`;
    await client.query(
      `insert into session_recordings (team_id, session_id, distinct_id, start_time, end_time, active_milliseconds, click_count, keypress_count,
         mouse_activity_count, console_log_count, console_warn_count, console_error_count, first_url, urls, size, event_count, message_count,
         block_count, snapshot_source, snapshot_library, retention_period_days, last_ingested_at)
       select $1::int, $2::text || lpad(i::text, 7, '0'), 'user-' || (i % ($3::int / 5 + 1)), now() - (i * interval '30 days' / $3::int),
              now() - (i * interval '30 days' / $3::int) + (30 + i % 600) * interval '1 second', (i % 120) * 1000, i % 17, i % 23, i % 41,
              i % 3, i % 2, i % 5, 'https://shop.example.com/p/' || (i % 50), jsonb_build_array('https://shop.example.com/p/' || (i % 50)),
              10000 + i % 5000, 200 + i % 300, 5, 5, 'web', 'web', 30, now() - (i * interval '30 days' / $3::int)
         from generate_series(1, $3::int) as i`,
      [teamId, prefix, count],
    );
    await client.query(
      `insert into raw_sessions (team_id, session_id, distinct_id, start_timestamp, end_timestamp, entry_url, end_url, entry_referring_domain,
         entry_attribution, pageview_count, autocapture_count, screen_count)
       select team_id, session_id, distinct_id, start_time, end_time, first_url, first_url, '$direct', '{}'::jsonb, 1, 1, 0
         from session_recordings where team_id = $1`,
      [teamId],
    );
    await client.query(
      `insert into persons (uuid, team_id, properties)
       select gen_random_uuid(), $1::int, jsonb_build_object('email', 'user-' || i || '@example.com')
         from generate_series(0, $2::int / 5) as i`,
      [teamId, count],
    );
    await client.query(
      `insert into person_distinct_ids (team_id, distinct_id, person_id)
       select $1, split_part(p.properties ->> 'email', '@', 1), p.id from persons p where p.team_id = $1`,
      [teamId],
    );
    await client.query(
      `insert into events (team_id, uuid, event, distinct_id, timestamp, properties, session_id, window_id, current_url)
       select r.team_id, gen_random_uuid(), e.name, r.distinct_id, r.start_time + e.offset_s * interval '1 second',
              case when e.name = 'purchase' then jsonb_build_object('plan', 'pro', '$current_url', r.first_url)
                   else jsonb_build_object('$current_url', r.first_url) end,
              r.session_id, r.session_id || '-w', r.first_url
         from session_recordings r
         cross join lateral (values ('$pageview', 0), ('$autocapture', 5), ('purchase', 10)) as e(name, offset_s)
        where r.team_id = $1 and (e.name <> 'purchase' or substring(r.session_id from '\\d+$')::int % 20 = 0)`,
      [teamId],
    );
    const newest = await client.query<{ session_id: string; start_ms: string }>(
      `select session_id, (extract(epoch from start_time) * 1000)::bigint::text as start_ms from session_recordings
        where team_id = $1 order by start_time desc limit $2`,
      [teamId, WITH_BLOCKS],
    );
    for (const { session_id: sessionId, start_ms: startMs } of newest.rows) {
      for (let b = 0; b < BLOCKS_PER_RECORDING; b++) {
        const start = Number(startMs) + b * 4000;
        const key = `recordings/${teamId}/bench-${sessionId}-${b}`;
        await client.query('insert into blobs (key, content) values ($1, $2)', [key, blockContent(sessionId, start)]);
        await client.query(
          `insert into recording_blocks (team_id, session_id, window_id, uuid, first_timestamp, last_timestamp, first_url, event_count, size, blob_key)
           values ($1, $2::text, $2::text || '-w', gen_random_uuid(), to_timestamp($3 / 1000.0), to_timestamp(($3 + 3900) / 1000.0), null, 40, 4000, $4)`,
          [teamId, sessionId, start, key],
        );
      }
    }
    await client.query('analyze');
  } finally {
    await client.end();
  }
}
