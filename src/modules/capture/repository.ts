import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, heatmapPoints, rawSessions, teams } from '../../db/schema/index.js';
import type { CapturedEvent } from './events.js';
import { takeHeatmapPoints } from './heatmap-points.js';
import { peopleWriter } from './people-repository.js';
import { sessionAggregates } from './session-aggregates.js';

/** Postgres takes at most 65,535 parameters per statement; an event row has 10, a heatmap point 12. */
const ROWS_PER_INSERT = 5_000;

/** Heatmap points are kept apart from their event; only a newly stored event's points are stored (a retry adds none). */
async function insertHeatmapPoints(tx: Db, teamId: number, batch: ReturnType<typeof takeHeatmapPoints>[], newUuids: Set<string>): Promise<void> {
  const rows = batch
    .filter(({ event }) => newUuids.has(event.uuid))
    .flatMap(({ event, points, viewport }) =>
      points.map((point) => ({
        teamId,
        eventUuid: event.uuid,
        timestamp: event.timestamp,
        sessionId: event.sessionId,
        distinctId: event.distinctId,
        url: point.url,
        type: point.type,
        x: point.x,
        y: point.y,
        targetFixed: point.targetFixed,
        viewportWidth: viewport.width,
        viewportHeight: viewport.height,
      })),
    );
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) await tx.insert(heatmapPoints).values(rows.slice(start, start + ROWS_PER_INSERT));
}

export function createCaptureRepository(db: Db) {
  return {
    /**
     * Stores a request's events in one transaction (all or none), each once: an event uuid the team already has is
     * skipped, so a batch the SDK sends again after a timeout changes nothing. The new events' persons, sessions and
     * heatmap points are updated in the same transaction. Answers how many were new, and whether
     * they were the team's first (its ingested_event flag is set then). A team known to be flagged already
     * (`alreadyIngested`) is not written to again.
     */
    async insertEvents(
      teamId: number,
      captured: CapturedEvent[],
      options: { alreadyIngested: boolean },
    ): Promise<{ inserted: number; firstForTeam: boolean }> {
      return db.transaction(async (tx) => {
        let inserted = 0;
        const fresh: CapturedEvent[] = [];
        for (let start = 0; start < captured.length; start += ROWS_PER_INSERT) {
          const batch = captured.slice(start, start + ROWS_PER_INSERT).map((e) => takeHeatmapPoints(e));
          const rows = batch.map(({ event: e }) => ({
            teamId,
            uuid: e.uuid,
            event: e.event,
            distinctId: e.distinctId,
            timestamp: e.timestamp,
            properties: e.properties,
            sessionId: e.sessionId,
            windowId: e.windowId,
            currentUrl: e.currentUrl,
          }));
          const result = await tx.insert(events).values(rows).onConflictDoNothing().returning({ uuid: events.uuid });
          inserted += result.length;
          const newUuids = new Set(result.map((r) => r.uuid));
          await insertHeatmapPoints(tx, teamId, batch, newUuids);
          fresh.push(...batch.filter(({ event }) => newUuids.has(event.uuid)).map(({ event }) => event));
        }
        const people = peopleWriter(tx, teamId);
        await people.applyEvents(fresh);
        await people.applySessions(sessionAggregates(fresh));
        if (inserted === 0 || options.alreadyIngested) return { inserted, firstForTeam: false };
        const flagged = await tx
          .update(teams)
          .set({ ingestedEvent: true })
          .where(and(eq(teams.id, teamId), eq(teams.ingestedEvent, false)))
          .returning({ id: teams.id });
        return { inserted, firstForTeam: flagged.length > 0 };
      });
    },

    /** Deletes up to `limit` events, heatmap points and sessions from before `cutoff` each; answers how many in all. */
    async deleteBefore(cutoff: Date, limit: number): Promise<number> {
      const at = cutoff.toISOString();
      let deleted = 0;
      for (const { table, key, time } of DATED) {
        const oldest = db.select({ key }).from(table).where(sql`${time} < ${at}`).limit(limit);
        deleted += (await db.delete(table).where(sql`${key} in (${oldest})`).returning({ key })).length;
      }
      const ended = db
        .select({ teamId: rawSessions.teamId, sessionId: rawSessions.sessionId })
        .from(rawSessions)
        .where(sql`${rawSessions.endTimestamp} < ${at}`)
        .limit(limit);
      const sessions = await db
        .delete(rawSessions)
        .where(sql`(${rawSessions.teamId}, ${rawSessions.sessionId}) in (${ended})`)
        .returning({ sessionId: rawSessions.sessionId });
      return deleted + sessions.length;
    },
  };
}

/** What the events retention deletes, oldest first, each by the time that dates it. */
const DATED = [
  { table: events, key: events.id, time: events.timestamp },
  { table: heatmapPoints, key: heatmapPoints.id, time: heatmapPoints.timestamp },
] as const;

export type CaptureRepository = ReturnType<typeof createCaptureRepository>;
