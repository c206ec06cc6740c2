import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { type Db, queryRows } from '../../db/client.js';
import { sessionRecordings } from '../../db/schema/index.js';
import type { BlobStore } from '../../storage/index.js';
import { createWriteBatcher } from '../../lib/write-batcher.js';
import { type BlockRow, type BlocksOptions, storeBlocks } from './blocks-repository.js';
import type { SnapshotBlock } from './snapshots.js';

/** How long a recording deleted through the API keeps its blocks (reads treat it as gone at once). */
const DELETED_GRACE = '1 day';

/**
 * A block's key in the blob store: never reused, so deleting a failed request's blobs cannot touch another's. Its 48
 * random bits are a random UUID's first twelve hex digits: Node draws those from a buffer it fills 128 UUIDs at a time,
 * where randomBytes costs a call into OpenSSL per block.
 */
const blockKey = (teamId: number, uuid: string) => {
  const random = randomUUID();
  return `recordings/${teamId}/${uuid}-${random.slice(0, 8)}${random.slice(9, 13)}`;
};

/** Compressed bytes stored by one shared statement at most (a single request of more is stored alone). */
const BYTES_PER_STATEMENT = 8 * 1024 * 1024;

/** One request's blocks for the shared statement, and what selects the statement they can share. */
interface BlocksWrite {
  teamId: number;
  rows: BlockRow[];
  options: BlocksOptions;
}

/** `concurrentWrites`: as the events' (repository.ts), for the /s/ requests' statements. */
export function createRecordingsRepository(db: Db, blobs: BlobStore, log: Logger, { concurrentWrites }: { concurrentWrites: number }) {
  const batcher = createWriteBatcher<BlocksWrite, string[]>({
    maxInFlight: concurrentWrites,
    maxWeight: BYTES_PER_STATEMENT,
    weight: (write) => write.rows.reduce((sum, row) => sum + row.content.length, 0),
    write: (writes) => storeBlocks(db, writes[0]!.teamId, writes.map((w) => w.rows), writes[0]!.options),
  });
  const store = (teamId: number, rows: BlockRow[], options: BlocksOptions) =>
    batcher.write(`${teamId}:${options.storeBytes}:${options.keepConsoleMessages}:${options.retentionPeriodDays}`, { teamId, rows, options });

  return {
    /**
     * Stores a /s/ request's blocks all or none, in one statement (blocks-repository.ts) shared with the requests that
     * came meanwhile. A block whose uuid the team already has is skipped with everything it would add, so a batch
     * sent again after a timeout counts once. With BLOB_STORE=postgres the bytes are part of the statement; an object
     * store gets them first, and the blobs of blocks that were not new, or of a request that failed, are deleted
     * again.
     */
    async insertBlocks(teamId: number, blocks: SnapshotBlock[], options: { keepConsoleMessages: boolean; retentionPeriodDays: number }): Promise<number> {
      if (blocks.length === 0) return 0;
      const rows = blocks.map((block) => ({
        block,
        key: blockKey(teamId, block.uuid),
        content: gzipSync(block.jsonl),
        size: Buffer.byteLength(block.jsonl) + block.metadata.eventCount,
      }));
      const storeBytes = blobs.kind === 'postgres';
      if (storeBytes) return (await store(teamId, rows, { ...options, storeBytes })).length;
      const keys = rows.map(({ key }) => key);
      const discard = (unused: string[]) =>
        blobs.delete(unused).catch((err: unknown) => log.warn({ err, keys: unused }, 'could not delete the blobs of recording blocks that were not stored'));
      let fresh: Set<string>;
      try {
        await blobs.put(rows.map(({ key, content }) => ({ key, body: content })));
        fresh = new Set(await store(teamId, rows, { ...options, storeBytes }));
      } catch (error) {
        await discard(keys);
        throw error;
      }
      if (fresh.size < keys.length) await discard(keys.filter((key) => !fresh.has(key)));
      return fresh.size;
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
