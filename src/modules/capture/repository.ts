import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { events, teams } from '../../db/schema/index.js';
import type { CapturedEvent } from './events.js';

/** Postgres takes at most 65,535 parameters per statement; an event row has 10. */
const ROWS_PER_INSERT = 5_000;

export function createCaptureRepository(db: Db) {
  return {
    /**
     * Stores a request's events in one transaction (all or none), each once: an event uuid the team already has is
     * skipped, so a batch the SDK sends again after a timeout changes nothing. Answers how many were new, and whether
     * they were the team's first (its ingested_event flag is set then).
     */
    async insertEvents(teamId: number, captured: CapturedEvent[]): Promise<{ inserted: number; firstForTeam: boolean }> {
      return db.transaction(async (tx) => {
        let inserted = 0;
        for (let start = 0; start < captured.length; start += ROWS_PER_INSERT) {
          const rows = captured.slice(start, start + ROWS_PER_INSERT).map((e) => ({
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
          const result = await tx.insert(events).values(rows).onConflictDoNothing().returning({ id: events.id });
          inserted += result.length;
        }
        if (inserted === 0) return { inserted, firstForTeam: false };
        const flagged = await tx
          .update(teams)
          .set({ ingestedEvent: true })
          .where(and(eq(teams.id, teamId), eq(teams.ingestedEvent, false)))
          .returning({ id: teams.id });
        return { inserted, firstForTeam: flagged.length > 0 };
      });
    },
  };
}

export type CaptureRepository = ReturnType<typeof createCaptureRepository>;
