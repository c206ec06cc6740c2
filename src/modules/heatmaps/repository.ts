import { and, asc, count, desc, eq, getTableColumns, ilike, lt, or, type SQL, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { preparedByShape, type Statement } from '../../db/prepared-by-shape.js';
import type { PageParams } from '../../lib/wire.js';
import { escapeLike } from '../../db/like.js';
import { jsonArray, jsonbValue, jsonObject, jsonTimestamp, jsonValue, printJson } from '../../db/json-text.js';
import { heatmapSnapshots, savedHeatmaps, type UserBasicRow, userBasicColumns, userBasicJson, users } from '../../db/schema/index.js';
import { newUuid } from '../../lib/ids.js';

export type SavedHeatmapRow = typeof savedHeatmaps.$inferSelect;
export type NewSavedHeatmap = typeof savedHeatmaps.$inferInsert;
export type HeatmapWithCreator = SavedHeatmapRow & { createdBy: UserBasicRow | null };
export interface SnapshotSummary {
  heatmapId: string;
  width: number;
  hasContent: boolean;
  hasLocation: boolean;
}

export interface HeatmapListFilters {
  type?: string;
  status?: string;
  search?: string;
  createdById?: number;
}

/** The columns `order` may name (PostHog passes it to Django's order_by): model fields and the creator's fields. */
const ORDER_COLUMNS: Record<string, SQL> = {
  id: sql`${savedHeatmaps.id}`,
  pk: sql`${savedHeatmaps.id}`,
  short_id: sql`${savedHeatmaps.shortId}`,
  name: sql`${savedHeatmaps.name}`,
  team: sql`${savedHeatmaps.teamId}`,
  team_id: sql`${savedHeatmaps.teamId}`,
  url: sql`${savedHeatmaps.url}`,
  data_url: sql`${savedHeatmaps.dataUrl}`,
  target_widths: sql`${savedHeatmaps.targetWidths}`,
  type: sql`${savedHeatmaps.type}`,
  status: sql`${savedHeatmaps.status}`,
  block_consent_modals: sql`${savedHeatmaps.blockConsentModals}`,
  created_at: sql`${savedHeatmaps.createdAt}`,
  updated_at: sql`${savedHeatmaps.updatedAt}`,
  created_by: sql`${savedHeatmaps.createdById}`,
  created_by_id: sql`${savedHeatmaps.createdById}`,
  exception: sql`${savedHeatmaps.exception}`,
  deleted: sql`${savedHeatmaps.deleted}`,
  created_by__id: sql`${users.id}`,
  created_by__email: sql`${users.email}`,
  created_by__first_name: sql`${users.firstName}`,
  created_by__last_name: sql`${users.lastName}`,
};

/** Whether `order` is a Django-style order value the list takes: "field" or "-field" of ORDER_COLUMNS, or "?" for random. */
export function isHeatmapOrder(order: string): boolean {
  return order === '?' || Object.hasOwn(ORDER_COLUMNS, order.replace(/^-/, ''));
}

/** The list filters, each bound as a parameter: its condition on the placeholder and the value (undefined: absent). */
const BOUND_FILTERS: { key: string; condition: (value: SQLWrapper) => SQL; value: (filters: HeatmapListFilters) => unknown }[] = [
  { key: 'type', condition: (v) => eq(savedHeatmaps.type, v), value: (f) => f.type },
  { key: 'status', condition: (v) => eq(savedHeatmaps.status, v), value: (f) => f.status },
  {
    key: 'search',
    condition: (v) => or(ilike(savedHeatmaps.url, v), ilike(savedHeatmaps.name, v))!,
    value: (f) => (f.search !== undefined ? `%${escapeLike(f.search)}%` : undefined),
  },
  { key: 'createdById', condition: (v) => eq(savedHeatmaps.createdById, v), value: (f) => f.createdById },
];

function orderingFor(order: string): SQL {
  if (order === '?') return sql`random()`;
  const descending = order.startsWith('-');
  const column = ORDER_COLUMNS[descending ? order.slice(1) : order]!;
  // Django puts NULLs last ascending and first descending, as Postgres does by default.
  return descending ? sql`${column} desc` : sql`${column} asc`;
}

export function createHeatmapsRepository(db: Db) {
  const withCreator = { ...getTableColumns(savedHeatmaps), createdBy: userBasicColumns };
  const toRow = (r: SavedHeatmapRow & { createdBy: UserBasicRow | null }): HeatmapWithCreator => r;
  // The list is prepared per shape (filters present, order); so are the snapshot summaries a heatmap shows.
  const listStatements = preparedByShape<Statement<{ results: string; count: number }>>('saved_heatmaps_list');
  // A listed heatmap as its response JSON, built by Postgres with its snapshots' summaries: the page and every
  // snapshot it shows in one round trip, and nothing to parse, map and print again per row.
  const snapshotHasContent = sql`(${heatmapSnapshots.content} is not null and length(${heatmapSnapshots.content}) > 0)
    or coalesce(${heatmapSnapshots.contentLocation}, '') <> ''`;
  const ownSnapshots = sql`from ${heatmapSnapshots} where ${heatmapSnapshots.heatmapId} = ${savedHeatmaps.id}`;
  const listedHeatmap = jsonObject([
      ['id', jsonValue(savedHeatmaps.id)],
      ['short_id', jsonValue(savedHeatmaps.shortId)],
      ['name', jsonValue(savedHeatmaps.name)],
      ['url', jsonValue(savedHeatmaps.url)],
      ['data_url', jsonValue(savedHeatmaps.dataUrl)],
      ['target_widths', jsonbValue(savedHeatmaps.targetWidths)],
      ['type', jsonValue(savedHeatmaps.type)],
      ['status', jsonValue(savedHeatmaps.status)],
      ['has_content', sql`(select coalesce(bool_or(${snapshotHasContent}), false)::text ${ownSnapshots})`],
      [
        'snapshots',
        sql`(select '[' || coalesce(string_agg('{"width":' || ${heatmapSnapshots.width}::text || ',"has_content":' || (${snapshotHasContent})::text || '}',
          ',' order by ${heatmapSnapshots.width}), '') || ']' ${ownSnapshots})`,
      ],
      ['deleted', jsonValue(savedHeatmaps.deleted)],
      ['block_consent_modals', jsonValue(savedHeatmaps.blockConsentModals)],
      ['created_by', userBasicJson],
      ['created_at', jsonTimestamp(savedHeatmaps.createdAt)],
      ['updated_at', jsonTimestamp(savedHeatmaps.updatedAt)],
      ['exception', jsonValue(savedHeatmaps.exception)],
  ]);
  const snapshotSummariesQuery = db
    .select({
      heatmapId: heatmapSnapshots.heatmapId,
      width: heatmapSnapshots.width,
      hasContent: sql<boolean>`${heatmapSnapshots.content} is not null and length(${heatmapSnapshots.content}) > 0`,
      hasLocation: sql<boolean>`coalesce(${heatmapSnapshots.contentLocation}, '') <> ''`,
    })
    .from(heatmapSnapshots)
    .where(sql`${heatmapSnapshots.heatmapId} = any(${sql.placeholder('heatmapIds')}::uuid[])`)
    .orderBy(asc(heatmapSnapshots.width))
    .prepare('heatmap_snapshot_summaries');

  return {
    /** A page of the list as response JSON (SavedHeatmapSchema[]) and the total; `order` must pass isHeatmapOrder. */
    async list(teamId: number, filters: HeatmapListFilters, order: string, page: PageParams) {
      const bound = BOUND_FILTERS.flatMap((filter) => {
        const value = filter.value(filters);
        return value === undefined ? [] : [{ filter, value }];
      });
      const statement = listStatements(`${bound.map((b) => b.filter.key).join(',')} by ${order}`, (name) => {
        const where = and(
          eq(savedHeatmaps.teamId, sql.placeholder('teamId')),
          eq(savedHeatmaps.deleted, false),
          ...bound.map(({ filter }) => filter.condition(sql.placeholder(filter.key))),
        );
        const ordering = [orderingFor(order), asc(savedHeatmaps.id)];
        const listed = db
          .select({
            entry: sql<string>`${listedHeatmap}`.as('entry'),
            position: sql<number>`row_number() over (order by ${sql.join(ordering, sql`, `)})`.as('position'),
          })
          .from(savedHeatmaps)
          .leftJoin(users, eq(users.id, savedHeatmaps.createdById))
          .where(where)
          .orderBy(...ordering)
          .limit(sql.placeholder('limit'))
          .offset(sql.placeholder('offset'))
          .as('listed');
        return db
          .select({
            results: jsonArray(listed.entry, listed.position).mapWith(printJson),
            count: sql<number>`(${db.select({ n: count() }).from(savedHeatmaps).where(where)})`.mapWith(Number),
          })
          .from(listed)
          .prepare(name);
      });
      const values = { teamId, ...Object.fromEntries(bound.map((b) => [b.filter.key, b.value])) };
      const [found] = await statement.execute({ ...values, limit: page.limit, offset: page.offset });
      return found!;
    },

    async shortIdTaken(teamId: number, shortId: string, tx: Db = db): Promise<boolean> {
      const [row] = await tx
        .select({ id: savedHeatmaps.id })
        .from(savedHeatmaps)
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.shortId, shortId)));
      return row !== undefined;
    },

    async insert(values: NewSavedHeatmap, tx: Db = db): Promise<SavedHeatmapRow> {
      const [row] = await tx.insert(savedHeatmaps).values(values).returning();
      return row!;
    },

    async findByShortId(teamId: number, shortId: string, tx: Db = db): Promise<HeatmapWithCreator | undefined> {
      const [row] = await tx
        .select(withCreator)
        .from(savedHeatmaps)
        .leftJoin(users, eq(users.id, savedHeatmaps.createdById))
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.shortId, shortId)));
      return row && toRow(row);
    },

    /**
     * The team's most recent live, completed screenshot heatmap of exactly this page URL that has a stored screenshot
     * (heatmap PNG exports).
     */
    async latestWithScreenshot(teamId: number, url: string): Promise<HeatmapWithCreator | undefined> {
      const [row] = await db
        .select(withCreator)
        .from(savedHeatmaps)
        .leftJoin(users, eq(users.id, savedHeatmaps.createdById))
        .where(
          and(
            eq(savedHeatmaps.teamId, teamId),
            eq(savedHeatmaps.url, url),
            eq(savedHeatmaps.deleted, false),
            eq(savedHeatmaps.type, 'screenshot'),
            eq(savedHeatmaps.status, 'completed'),
            sql`exists (select 1 from ${heatmapSnapshots} where ${heatmapSnapshots.heatmapId} = ${savedHeatmaps.id}
              and ${heatmapSnapshots.content} is not null and length(${heatmapSnapshots.content}) > 0)`,
          ),
        )
        .orderBy(desc(savedHeatmaps.createdAt), desc(savedHeatmaps.id))
        .limit(1);
      return row && toRow(row);
    },
    async findById(teamId: number, id: string, tx: Db = db): Promise<HeatmapWithCreator | undefined> {
      const [row] = await tx
        .select(withCreator)
        .from(savedHeatmaps)
        .leftJoin(users, eq(users.id, savedHeatmaps.createdById))
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.id, id)));
      return row && toRow(row);
    },

    async update(teamId: number, id: string, patch: Partial<NewSavedHeatmap>, tx: Db = db): Promise<void> {
      await tx
        .update(savedHeatmaps)
        .set({ ...patch, updatedAt: sql`now()` })
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.id, id)));
    },

    /** Throws the snapshots away and starts a new render generation: status processing, no exception. */
    async resetForRender(teamId: number, id: string, tx: Db = db): Promise<void> {
      await tx
        .update(savedHeatmaps)
        .set({ status: 'processing', exception: null, renderGeneration: sql`${savedHeatmaps.renderGeneration} + 1`, updatedAt: sql`now()` })
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.id, id)));
      await tx.delete(heatmapSnapshots).where(eq(heatmapSnapshots.heatmapId, id));
    },

    async snapshotSummaries(heatmapIds: string[]): Promise<SnapshotSummary[]> {
      if (heatmapIds.length === 0) return [];
      return snapshotSummariesQuery.execute({ heatmapIds });
    },

    async snapshotContent(heatmapId: string, width: number, tx: Db = db): Promise<Buffer | null> {
      const [row] = await tx
        .select({ content: heatmapSnapshots.content })
        .from(heatmapSnapshots)
        .where(and(eq(heatmapSnapshots.heatmapId, heatmapId), eq(heatmapSnapshots.width, width)));
      return row?.content ?? null;
    },

    /** The heatmap a render job works on; jobs carry the team id so this stays scoped like every other query. */
    async findForRender(teamId: number, id: string, tx: Db = db): Promise<SavedHeatmapRow | undefined> {
      const [row] = await tx
        .select()
        .from(savedHeatmaps)
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.id, id)));
      return row;
    },

    /** Stores one width, unless the render generation moved on meanwhile; answers whether it was stored. */
    async storeSnapshot(heatmapId: string, generation: number, width: number, content: Buffer, tx: Db = db): Promise<boolean> {
      const rows = await tx.execute(sql`
        insert into ${heatmapSnapshots} (id, heatmap_id, width, content, content_location)
        select ${newUuid()}, ${heatmapId}, ${width}, ${content}, null
        where exists (select 1 from ${savedHeatmaps} where id = ${heatmapId} and render_generation = ${generation})
        on conflict (heatmap_id, width) do update set content = excluded.content, content_location = null
        returning 1 as stored`);
      return (rows as unknown as { rows: unknown[] }).rows.length > 0;
    },

    /** Completion bumps updated_at, as PostHog's full save; false when a newer generation took over. */
    async markCompleted(heatmapId: string, generation: number, tx: Db = db): Promise<boolean> {
      const rows = await tx
        .update(savedHeatmaps)
        .set({ status: 'completed', exception: null, updatedAt: sql`now()` })
        .where(and(eq(savedHeatmaps.id, heatmapId), eq(savedHeatmaps.renderGeneration, generation)))
        .returning({ id: savedHeatmaps.id });
      return rows.length > 0;
    },

    /** Failure leaves updated_at alone, as PostHog's update_fields=[status, exception]. */
    async markFailed(heatmapId: string, generation: number, exception: string, tx: Db = db): Promise<boolean> {
      const rows = await tx
        .update(savedHeatmaps)
        .set({ status: 'failed', exception })
        .where(and(eq(savedHeatmaps.id, heatmapId), eq(savedHeatmaps.renderGeneration, generation)))
        .returning({ id: savedHeatmaps.id });
      return rows.length > 0;
    },

    /** Soft-deletes by short id; "gone" when there is no such heatmap (deleted ones count as found). */
    async softDeleteByShortId(teamId: number, shortId: string, tx: Db = db): Promise<'deleted' | 'gone'> {
      const rows = await tx
        .update(savedHeatmaps)
        .set({ deleted: true, updatedAt: sql`now()` })
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.shortId, shortId)))
        .returning({ id: savedHeatmaps.id });
      return rows.length > 0 ? 'deleted' : 'gone';
    },

    /** Restores a soft-deleted heatmap; undefined when there is no deleted heatmap with that short id. */
    async restoreByShortId(teamId: number, shortId: string, tx: Db = db): Promise<SavedHeatmapRow | undefined> {
      const [row] = await tx
        .update(savedHeatmaps)
        .set({ deleted: false, updatedAt: sql`now()` })
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.shortId, shortId), eq(savedHeatmaps.deleted, true)))
        .returning();
      return row;
    },

    async live(teamId: number, tx: Db = db): Promise<SavedHeatmapRow[]> {
      return tx
        .select()
        .from(savedHeatmaps)
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.deleted, false)))
        .orderBy(asc(savedHeatmaps.createdAt), asc(savedHeatmaps.id));
    },

    /** Screenshot heatmaps stuck in processing since before the cutoff, across teams (the boot-time sweep). */
    async stuckInProcessing(before: Date, tx: Db = db): Promise<Pick<SavedHeatmapRow, 'id' | 'teamId'>[]> {
      return tx
        .select({ id: savedHeatmaps.id, teamId: savedHeatmaps.teamId })
        .from(savedHeatmaps)
        .where(and(eq(savedHeatmaps.status, 'processing'), eq(savedHeatmaps.type, 'screenshot'), lt(savedHeatmaps.updatedAt, before.toISOString())))
        .orderBy(desc(savedHeatmaps.updatedAt));
    },
  };
}

export type HeatmapsRepository = ReturnType<typeof createHeatmapsRepository>;
