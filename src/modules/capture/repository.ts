import { type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { type Db, queryRows } from '../../db/client.js';
import { events, heatmapPages, heatmapPoints, rawSessions } from '../../db/schema/index.js';
import { createWriteBatcher } from '../../lib/write-batcher.js';
import type { CapturedEvent } from './events.js';
import { peopleWriter } from './people-repository.js';
import { changesPerson, processesPerson } from './person-updates.js';
import { type EventsInput, eventsInput, type StoreOptions, type StoredEvents, storeEvents } from './events-repository.js';

/** Events stored by one shared statement at most (a single request of more is stored alone). */
const EVENTS_PER_STATEMENT = 2_000;

/** One request's events for the shared statement, and what selects the statement they can share. */
interface EventsWrite {
  teamId: number;
  captured: CapturedEvent[];
  /** The events serialized for the statement as the request arrived (eventsInput). */
  input: EventsInput;
  options: StoreOptions;
}

/**
 * `concurrentWrites` caps the statements of requests that change no person running at once; the requests that come
 * meanwhile are stored together by the next one (src/lib/write-batcher.ts).
 */
export function createCaptureRepository(db: Db, { concurrentWrites }: { concurrentWrites: number }) {
  const batcher = createWriteBatcher<EventsWrite, StoredEvents>({
    maxInFlight: concurrentWrites,
    maxWeight: EVENTS_PER_STATEMENT,
    weight: (write) => write.captured.length,
    write: (writes) => storeEvents(db, writes[0]!.teamId, writes, writes[0]!.options),
  });

  return {
    /**
     * Stores a request's events all or none, each once: an event uuid the team already has is skipped, so a batch the
     * SDK sends again after a timeout changes nothing. The new events' persons, sessions and heatmap points are
     * updated with them. Answers how many were new, and whether they were the team's first (its ingested_event flag
     * is set then). A team known to be flagged already (`alreadyIngested`) is not written to again.
     *
     * A request whose events only need their distinct ids to have a person (most of them) is one statement, shared
     * with the requests of the team that wait meanwhile; one that merges or updates persons stores its events in a
     * transaction of its own that then updates them event by event.
     */
    async insertEvents(
      teamId: number,
      captured: CapturedEvent[],
      options: { alreadyIngested: boolean; keepHeatmaps: boolean },
    ): Promise<{ inserted: number; firstForTeam: boolean }> {
      const flagTeam = !options.alreadyIngested;
      if (!captured.some(changesPerson)) {
        const storeOptions = { ensurePersons: true, flagTeam, keepHeatmaps: options.keepHeatmaps };
        const write = { teamId, captured, input: eventsInput(captured, storeOptions), options: storeOptions };
        const { uuids, firstForTeam } = await batcher.write(`${teamId}:${flagTeam}:${options.keepHeatmaps}`, write);
        return { inserted: uuids.length, firstForTeam };
      }
      return db.transaction(async (tx) => {
        const storeOptions = { ensurePersons: false, flagTeam, keepHeatmaps: options.keepHeatmaps };
        const [{ uuids, firstForTeam }] = (await storeEvents(tx, teamId, [{ captured, input: eventsInput(captured, storeOptions) }], storeOptions)) as [
          StoredEvents,
        ];
        const fresh = new Set(uuids);
        // The first event of each new uuid, the one stored.
        await peopleWriter(tx, teamId).applyEvents(captured.filter((event) => fresh.delete(event.uuid) && processesPerson(event)));
        return { inserted: uuids.length, firstForTeam };
      });
    },

    /** Deletes up to `limit` events, heatmap points, sessions and heatmap pages from before `cutoff` each; answers how many in all. */
    async deleteBefore(cutoff: Date, limit: number): Promise<number> {
      const at = cutoff.toISOString();
      const deletions = [
        deleteOldest(events, [events.teamId, events.uuid], sql`${events.timestamp} < ${at}`),
        deleteOldest(heatmapPoints, [sql`ctid`], sql`${heatmapPoints.timestamp} < ${at}`),
        deleteOldest(rawSessions, [rawSessions.teamId, rawSessions.sessionId], sql`${rawSessions.endTimestamp} < ${at}`),
        // A page seen a day before the cutoff has no point left (its last_seen_at is kept to the day).
        deleteOldest(heatmapPages, [heatmapPages.teamId, heatmapPages.urlHash], sql`${heatmapPages.lastSeenAt} < ${at}::timestamptz - interval '1 day'`),
      ];
      let deleted = 0;
      for (const deletion of deletions) deleted += await deletion(limit);
      return deleted;
    },
  };

  /** Deletes up to `limit` rows matching `condition`, picked by their key (heatmap points have none: their ctid); answers how many. */
  function deleteOldest(table: PgTable, key: (PgColumn | SQL)[], condition: SQL) {
    const columns = sql.join(key, sql`, `);
    return async (limit: number) => {
      const picked = sql`select ${columns} from ${table} where ${condition} limit ${limit}`;
      return (await queryRows(db, sql`delete from ${table} where (${columns}) in (${picked}) returning 1`)).length;
    };
  }
}

export type CaptureRepository = ReturnType<typeof createCaptureRepository>;
