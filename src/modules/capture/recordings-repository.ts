import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { type Db, queryRows } from '../../db/client.js';
import { recordingBlocks, recordingConsoleLogs, sessionRecordings } from '../../db/schema/index.js';
import type { BlobStore } from '../../storage/index.js';
import type { SnapshotBlock } from './snapshots.js';

const MAX_URLS = 25;
/** Postgres takes at most 65,535 parameters per statement; a block row has 11. */
const ROWS_PER_INSERT = 5_000;
/** How long a recording deleted through the API keeps its blocks (reads treat it as gone at once). */
const DELETED_GRACE = '1 day';
const iso = (ms: number) => new Date(ms).toISOString();

/** Adds a new block to its recording's aggregates (and its console messages, when the project keeps them). */
async function upsertRecording(
  tx: Db,
  teamId: number,
  block: SnapshotBlock,
  size: number,
  options: { keepConsoleMessages: boolean; retentionPeriodDays: number },
): Promise<void> {
  const { metadata } = block;
  await tx
    .insert(sessionRecordings)
    .values({
      teamId,
      sessionId: block.sessionId,
      distinctId: block.distinctId,
      startTime: iso(metadata.firstTimestamp),
      endTime: iso(metadata.lastTimestamp),
      activeMilliseconds: metadata.activeMilliseconds,
      clickCount: metadata.clickCount,
      keypressCount: metadata.keypressCount,
      mouseActivityCount: metadata.mouseActivityCount,
      consoleLogCount: metadata.consoleCounts.log,
      consoleWarnCount: metadata.consoleCounts.warn,
      consoleErrorCount: metadata.consoleCounts.error,
      firstUrl: metadata.urls[0] ?? null,
      urls: metadata.urls,
      size,
      eventCount: metadata.eventCount,
      messageCount: 1,
      blockCount: 1,
      snapshotSource: block.snapshotSource,
      snapshotLibrary: block.snapshotLibrary,
      retentionPeriodDays: options.retentionPeriodDays,
    })
    .onConflictDoUpdate({
      target: [sessionRecordings.teamId, sessionRecordings.sessionId],
      set: {
        startTime: sql`least(session_recordings.start_time, excluded.start_time)`,
        endTime: sql`greatest(session_recordings.end_time, excluded.end_time)`,
        activeMilliseconds: sql`session_recordings.active_milliseconds + excluded.active_milliseconds`,
        clickCount: sql`session_recordings.click_count + excluded.click_count`,
        keypressCount: sql`session_recordings.keypress_count + excluded.keypress_count`,
        mouseActivityCount: sql`session_recordings.mouse_activity_count + excluded.mouse_activity_count`,
        consoleLogCount: sql`session_recordings.console_log_count + excluded.console_log_count`,
        consoleWarnCount: sql`session_recordings.console_warn_count + excluded.console_warn_count`,
        consoleErrorCount: sql`session_recordings.console_error_count + excluded.console_error_count`,
        // The first URL is the earliest block's; the URL list keeps the first 25 distinct ones in time order.
        firstUrl: sql`case when excluded.start_time < session_recordings.start_time and excluded.first_url is not null
            then excluded.first_url else coalesce(session_recordings.first_url, excluded.first_url) end`,
        urls: sql`(select coalesce(jsonb_agg(url order by position), '[]'::jsonb) from (
              select url, min(position) as position from (
                select value as url, ordinality + case when excluded.start_time < session_recordings.start_time then 0 else 1000 end as position
                  from jsonb_array_elements_text(excluded.urls) with ordinality
                union all
                select value, ordinality + 500 from jsonb_array_elements_text(session_recordings.urls) with ordinality
              ) as candidates group by url order by min(position) limit ${MAX_URLS}
            ) as kept)`,
        size: sql`session_recordings.size + excluded.size`,
        eventCount: sql`session_recordings.event_count + excluded.event_count`,
        messageCount: sql`session_recordings.message_count + 1`,
        blockCount: sql`session_recordings.block_count + 1`,
        snapshotSource: sql`case when excluded.start_time < session_recordings.start_time then excluded.snapshot_source else session_recordings.snapshot_source end`,
        retentionPeriodDays: sql`greatest(session_recordings.retention_period_days, excluded.retention_period_days)`,
        lastIngestedAt: sql`now()`,
      },
    });

  if (options.keepConsoleMessages && metadata.consoleMessages.length > 0) {
    await tx
      .insert(recordingConsoleLogs)
      .values(
        metadata.consoleMessages.map(({ level, message }) => ({
          teamId,
          sessionId: block.sessionId,
          level,
          message,
          messageHash: createHash('md5').update(message).digest('hex'),
        })),
      )
      .onConflictDoNothing();
  }
}

/** A block's key in the blob store: never reused, so deleting a failed request's blobs cannot touch another's. */
const blockKey = (teamId: number, uuid: string) => `recordings/${teamId}/${uuid}-${randomBytes(6).toString('hex')}`;

export function createRecordingsRepository(db: Db, blobs: BlobStore, log: Logger) {
  return {
    /**
     * Stores a /s/ request's blocks in one transaction (all or none). A block whose uuid the team already has is
     * skipped with everything it would add, so a batch sent again after a timeout counts once. The new blocks' bytes
     * go to the blob store; each new block adds to its recording's aggregates in one upsert, which concurrent
     * requests for the same session serialize on.
     */
    async insertBlocks(teamId: number, blocks: SnapshotBlock[], options: { keepConsoleMessages: boolean; retentionPeriodDays: number }): Promise<number> {
      if (blocks.length === 0) return 0;
      const rows = blocks.map((block) => ({
        block,
        key: blockKey(teamId, block.uuid),
        content: gzipSync(block.jsonl),
        size: Buffer.byteLength(block.jsonl) + block.metadata.eventCount,
      }));
      const written: string[] = [];
      try {
        return await db.transaction(async (tx) => {
          const newKeys = new Set<string>();
          for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
            const stored = await tx
              .insert(recordingBlocks)
              .values(
                rows.slice(start, start + ROWS_PER_INSERT).map(({ block, key, size }) => ({
                  teamId,
                  sessionId: block.sessionId,
                  windowId: block.windowId,
                  uuid: block.uuid,
                  firstTimestamp: iso(block.metadata.firstTimestamp),
                  lastTimestamp: iso(block.metadata.lastTimestamp),
                  firstUrl: block.metadata.urls[0] ?? null,
                  eventCount: block.metadata.eventCount,
                  size,
                  blobKey: key,
                })),
              )
              .onConflictDoNothing()
              .returning({ key: recordingBlocks.blobKey });
            for (const { key } of stored) newKeys.add(key);
          }
          const fresh = rows.filter(({ key }) => newKeys.has(key));
          written.push(...newKeys);
          await blobs.put(
            fresh.map(({ key, content }) => ({ key, body: content })),
            tx,
          );
          for (const { block, size } of fresh) await upsertRecording(tx, teamId, block, size, options);
          return fresh.length;
        });
      } catch (error) {
        await blobs.delete(written).catch((err: unknown) => log.warn({ err, keys: written }, 'could not delete the blobs of a failed recordings request'));
        throw error;
      }
    },

    /** Recordings of the team that started this calendar month (UTC), what the recordings quota counts. */
    async countThisMonth(teamId: number): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(sessionRecordings)
        .where(sql`${sessionRecordings.teamId} = ${teamId} and ${sessionRecordings.startTime} >= date_trunc('month', now() at time zone 'utc') at time zone 'utc'`);
      return Number(row?.n ?? 0);
    },

    /**
     * Deletes up to `limit` recordings past their retention (the day they started plus retention_period_days, as
     * PostHog's expiry_time) or deleted through the API more than a day ago, with their blocks and console messages.
     * Answers how many.
     */
    async deleteExpiredRecordings(limit: number): Promise<number> {
      return db.transaction(async (tx) => {
        // Ordered, so the three statements of the transaction pick the same recordings.
        const expired = sql`select team_id, session_id from session_recordings
          where date_trunc('day', start_time) + make_interval(days => coalesce(retention_period_days, 30)) < now()
            or deleted_at < now() - ${DELETED_GRACE}::interval
          order by team_id, session_id limit ${limit}`;
        const blocks = await queryRows<{ blob_key: string }>(
          tx,
          sql`delete from recording_blocks b using (${expired}) e where b.team_id = e.team_id and b.session_id = e.session_id returning b.blob_key`,
        );
        await blobs.delete(
          blocks.map((block) => block.blob_key),
          tx,
        );
        await tx.execute(sql`delete from recording_console_logs c using (${expired}) e where c.team_id = e.team_id and c.session_id = e.session_id`);
        const deleted = await tx.execute(sql`delete from session_recordings r using (${expired}) e
          where r.team_id = e.team_id and r.session_id = e.session_id returning r.session_id`);
        return (deleted as unknown as { rows: unknown[] }).rows.length;
      });
    },
  };
}

export type RecordingsRepository = ReturnType<typeof createRecordingsRepository>;
