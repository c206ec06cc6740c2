import { and, count, desc, eq, gte, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { escapeLike } from '../../db/like.js';
import { type PropertyFilter, propertyCondition } from '../../db/property-filters.js';
import { events, type ExportedAssetRow, exportedAssets, personDistinctIds, persons, type TeamRow, teams } from '../../db/schema/index.js';
import { isoZ } from '../../lib/time.js';
import type { PageParams } from '../../lib/wire.js';

export type NewExportedAsset = typeof exportedAssets.$inferInsert;
export type { ExportedAssetRow };

export interface ExportListFilters {
  exportFormat?: string;
  contextPath?: string;
  sessionRecordingId?: string;
}

/** PostHog's default manager: expired exports are gone. */
const notExpired = or(isNull(exportedAssets.expiresAfter), gte(exportedAssets.expiresAfter, sql`now()`))!;

/** An EventsQuery page: which events, after which (timestamp, id) in newest-first order. */
export interface EventsPageQuery {
  event?: string;
  properties: PropertyFilter[];
  after?: string;
  before?: string;
  /** The last row of the page before: time, then uuid, both descending. */
  cursor?: { timestamp: string; uuid: string };
  limit: number;
  timeZone: string;
}

export interface ExportedEvent {
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: string;
  properties: Record<string, unknown>;
  createdAt: string;
  person: { uuid: string; properties: Record<string, unknown> } | null;
}

export function createExportsRepository(db: Db) {
  return {
    async insert(values: NewExportedAsset, tx: Db = db): Promise<ExportedAssetRow> {
      const [row] = await tx.insert(exportedAssets).values(values).returning();
      return row!;
    },

    /** An export of the team made by the user, unless it expired. */
    async findOwn(teamId: number, userId: number, id: number): Promise<ExportedAssetRow | undefined> {
      const [row] = await db
        .select()
        .from(exportedAssets)
        .where(and(eq(exportedAssets.id, id), eq(exportedAssets.teamId, teamId), eq(exportedAssets.createdById, userId), notExpired));
      return row;
    },

    /** Any export of the team by id, unless it expired (public links and jobs). */
    async findById(id: number): Promise<ExportedAssetRow | undefined> {
      const [row] = await db.select().from(exportedAssets).where(and(eq(exportedAssets.id, id), notExpired));
      return row;
    },

    /** The user's exports of the team, newest first. */
    async list(teamId: number, userId: number, filters: ExportListFilters, page: PageParams): Promise<{ rows: ExportedAssetRow[]; count: number }> {
      const conditions: SQL[] = [eq(exportedAssets.teamId, teamId), eq(exportedAssets.createdById, userId), notExpired];
      if (filters.exportFormat) conditions.push(eq(exportedAssets.exportFormat, filters.exportFormat));
      if (filters.contextPath !== undefined) {
        conditions.push(sql`${exportedAssets.exportContext}->>'path' ilike ${`%${escapeLike(filters.contextPath)}%`}`);
      }
      if (filters.sessionRecordingId !== undefined) {
        conditions.push(sql`${exportedAssets.exportContext}->>'session_recording_id' = ${filters.sessionRecordingId}`);
      }
      const where = and(...conditions);
      const rows = await db
        .select()
        .from(exportedAssets)
        .where(where)
        .orderBy(desc(exportedAssets.createdAt), desc(exportedAssets.id))
        .limit(page.limit)
        .offset(page.offset);
      const [total] = await db.select({ n: count() }).from(exportedAssets).where(where);
      return { rows, count: total?.n ?? 0 };
    },

    /** The team's exports of these formats for a session recording, made since `since` (the monthly video quota). */
    async countRecordingExportsSince(teamId: number, formats: readonly string[], since: Date): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(exportedAssets)
        .where(
          and(
            eq(exportedAssets.teamId, teamId),
            inArray(exportedAssets.exportFormat, [...formats]),
            sql`${exportedAssets.exportContext}->>'session_recording_id' is not null`,
            gte(exportedAssets.createdAt, since.toISOString()),
          ),
        );
      return row?.n ?? 0;
    },

    /** Records the file's key, once: false when the export already has content (another run finished first). */
    async setContent(id: number, contentKey: string, tx: Db = db): Promise<boolean> {
      const rows = await tx
        .update(exportedAssets)
        .set({ contentKey, exception: null, exceptionType: null })
        .where(and(eq(exportedAssets.id, id), isNull(exportedAssets.contentKey)))
        .returning({ id: exportedAssets.id });
      return rows.length > 0;
    },

    async setException(id: number, exception: string, exceptionType: string): Promise<void> {
      await db
        .update(exportedAssets)
        .set({ exception, exceptionType })
        .where(and(eq(exportedAssets.id, id), isNull(exportedAssets.contentKey)));
    },

    /** Writes export_context.inactivity_periods (recording videos), keeping the rest of the context. */
    async setInactivityPeriods(id: number, periods: unknown[]): Promise<void> {
      await db
        .update(exportedAssets)
        .set({ exportContext: sql`coalesce(${exportedAssets.exportContext}, '{}'::jsonb) || jsonb_build_object('inactivity_periods', ${JSON.stringify(periods)}::jsonb)` })
        .where(eq(exportedAssets.id, id));
    },

    /** Up to `limit` expired exports (expires_after <= now), oldest expiry first. */
    async expired(limit: number): Promise<{ id: number; contentKey: string | null }[]> {
      return db
        .select({ id: exportedAssets.id, contentKey: exportedAssets.contentKey })
        .from(exportedAssets)
        .where(lte(exportedAssets.expiresAfter, sql`now()`))
        .orderBy(exportedAssets.expiresAfter)
        .limit(limit);
    },

    /** The export's team (heatmap exports draw with its time zone and test account filters). */
    async findTeam(teamId: number): Promise<TeamRow | undefined> {
      const [row] = await db.select().from(teams).where(eq(teams.id, teamId));
      return row;
    },

    async teamTimeZone(teamId: number): Promise<string> {
      const [row] = await db.select({ timezone: teams.timezone }).from(teams).where(eq(teams.id, teamId));
      return row?.timezone ?? 'UTC';
    },

    /** A page of the team's captured events, newest first, with each one's person (EventsQuery exports). */
    async eventsPage(teamId: number, q: EventsPageQuery): Promise<ExportedEvent[]> {
      const options = { timeZone: q.timeZone };
      const conditions: SQL[] = [eq(events.teamId, teamId)];
      if (q.event) conditions.push(eq(events.event, q.event));
      if (q.after) conditions.push(sql`${events.timestamp} > ${q.after}::timestamptz`);
      if (q.before) conditions.push(sql`${events.timestamp} < ${q.before}::timestamptz`);
      if (q.cursor) conditions.push(sql`(${events.timestamp}, ${events.uuid}) < (${q.cursor.timestamp}::timestamptz, ${q.cursor.uuid}::uuid)`);
      for (const filter of q.properties) {
        conditions.push(propertyCondition(filter, filter.type === 'person' ? sql`coalesce(${persons.properties}, '{}'::jsonb)` : sql`${events.properties}`, options));
      }
      const rows = await db
        .select({
          uuid: events.uuid,
          event: events.event,
          distinctId: events.distinctId,
          timestamp: events.timestamp,
          properties: events.properties,
          createdAt: events.createdAt,
          personUuid: persons.uuid,
          personProperties: persons.properties,
        })
        .from(events)
        .leftJoin(personDistinctIds, and(eq(personDistinctIds.teamId, events.teamId), eq(personDistinctIds.distinctId, events.distinctId)))
        .leftJoin(persons, eq(persons.id, personDistinctIds.personId))
        .where(and(...conditions))
        .orderBy(desc(events.timestamp), desc(events.uuid))
        .limit(q.limit);
      return rows.map((row) => ({
        uuid: row.uuid,
        event: row.event,
        distinctId: row.distinctId,
        timestamp: isoZ(row.timestamp),
        properties: row.properties,
        createdAt: isoZ(row.createdAt),
        person: row.personUuid ? { uuid: row.personUuid, properties: row.personProperties ?? {} } : null,
      }));
    },

    async deleteByIds(ids: number[], tx: Db = db): Promise<void> {
      if (ids.length > 0) await tx.delete(exportedAssets).where(inArray(exportedAssets.id, ids));
    },
  };
}

export type ExportsRepository = ReturnType<typeof createExportsRepository>;
