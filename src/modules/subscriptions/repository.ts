import { and, asc, count, desc, eq, getTableColumns, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { escapeLike } from '../../db/like.js';
import { savedHeatmaps, type SubscriptionRow, subscriptions, type UserBasicRow, userBasicColumns, users } from '../../db/schema/index.js';
import type { PageParams } from '../../lib/wire.js';

export type NewSubscription = typeof subscriptions.$inferInsert;
export type { SubscriptionRow };

/** A subscription with what its response names: its creator and its saved heatmap. */
export type SubscriptionWithRefs = SubscriptionRow & {
  createdBy: UserBasicRow | null;
  heatmap: { shortId: string; name: string | null; url: string } | null;
};

export interface SubscriptionListFilters {
  deleted: boolean;
  insightId?: number;
  dashboardId?: number;
  createdByUuid?: string;
  resourceType?: string;
  targetType?: string;
  search?: string;
  /** A column of ORDER_COLUMNS, "-" first for descending. */
  ordering: string;
}

const ORDER_COLUMNS: Record<string, SQL> = {
  created_at: sql`${subscriptions.createdAt}`,
  next_delivery_date: sql`${subscriptions.nextDeliveryDate}`,
  title: sql`${subscriptions.title}`,
  created_by__email: sql`${users.email}`,
};

/** resource_type as PostHog derives it (insight, dashboard, prompt), then Burrow's resources. */
const RESOURCE_CONDITIONS: Record<string, SQL> = {
  insight: isNotNull(subscriptions.insightId),
  dashboard: and(isNull(subscriptions.insightId), isNotNull(subscriptions.dashboardId))!,
  ai_prompt: and(isNull(subscriptions.insightId), isNull(subscriptions.dashboardId), isNotNull(subscriptions.prompt))!,
  heatmap: isNotNull(subscriptions.savedHeatmapId),
  recordings: isNotNull(subscriptions.recordingsQuery),
};

export function createSubscriptionsRepository(db: Db) {
  const withRefs = {
    ...getTableColumns(subscriptions),
    createdBy: userBasicColumns,
    heatmap: { shortId: savedHeatmaps.shortId, name: savedHeatmaps.name, url: savedHeatmaps.url },
  };
  const select = (tx: Db) =>
    tx
      .select(withRefs)
      .from(subscriptions)
      .leftJoin(users, eq(users.id, subscriptions.createdById))
      .leftJoin(savedHeatmaps, eq(savedHeatmaps.id, subscriptions.savedHeatmapId));

  return {
    async find(teamId: number, id: number, tx: Db = db): Promise<SubscriptionWithRefs | undefined> {
      const [row] = await select(tx).where(and(eq(subscriptions.teamId, teamId), eq(subscriptions.id, id)));
      return row;
    },

    async list(teamId: number, filters: SubscriptionListFilters, page: PageParams): Promise<{ rows: SubscriptionWithRefs[]; count: number }> {
      const conditions: SQL[] = [eq(subscriptions.teamId, teamId), eq(subscriptions.deleted, filters.deleted)];
      if (filters.insightId !== undefined) conditions.push(eq(subscriptions.insightId, filters.insightId));
      if (filters.dashboardId !== undefined) conditions.push(eq(subscriptions.dashboardId, filters.dashboardId));
      if (filters.createdByUuid !== undefined) conditions.push(eq(users.uuid, filters.createdByUuid));
      if (filters.resourceType !== undefined) conditions.push(RESOURCE_CONDITIONS[filters.resourceType] ?? sql`false`);
      if (filters.targetType !== undefined) conditions.push(eq(subscriptions.targetType, filters.targetType));
      if (filters.search) {
        const pattern = `%${escapeLike(filters.search)}%`;
        conditions.push(or(sql`${subscriptions.title} ilike ${pattern}`, sql`${savedHeatmaps.name} ilike ${pattern}`)!);
      }
      // DRF's OrderingFilter drops a field it does not know and keeps the default order.
      const ordering = ORDER_COLUMNS[filters.ordering.replace(/^-/, '')] ? filters.ordering : '-created_at';
      const descending = ordering.startsWith('-');
      const column = ORDER_COLUMNS[ordering.replace(/^-/, '')]!;
      const where = and(...conditions);
      const rows = await select(db)
        .where(where)
        .orderBy(descending ? sql`${column} desc nulls last` : sql`${column} asc nulls last`, descending ? desc(subscriptions.id) : asc(subscriptions.id))
        .limit(page.limit)
        .offset(page.offset);
      const [total] = await db
        .select({ n: count() })
        .from(subscriptions)
        .leftJoin(users, eq(users.id, subscriptions.createdById))
        .leftJoin(savedHeatmaps, eq(savedHeatmaps.id, subscriptions.savedHeatmapId))
        .where(where);
      return { rows, count: total?.n ?? 0 };
    },

    async insert(values: NewSubscription, tx: Db = db): Promise<SubscriptionRow> {
      const [row] = await tx.insert(subscriptions).values(values).returning();
      return row!;
    },

    async update(teamId: number, id: number, values: Partial<NewSubscription>, tx: Db = db): Promise<void> {
      await tx
        .update(subscriptions)
        .set(values)
        .where(and(eq(subscriptions.teamId, teamId), eq(subscriptions.id, id)));
    },

    /** A live saved heatmap of the team by short_id. */
    async findHeatmap(teamId: number, shortId: string): Promise<{ id: string } | undefined> {
      const [row] = await db
        .select({ id: savedHeatmaps.id })
        .from(savedHeatmaps)
        .where(and(eq(savedHeatmaps.teamId, teamId), eq(savedHeatmaps.shortId, shortId), eq(savedHeatmaps.deleted, false)));
      return row;
    },

    /** Live subscriptions of the team with AI summaries on (summary_quota/). */
    async countSummaryEnabled(teamId: number): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(subscriptions)
        .where(and(eq(subscriptions.teamId, teamId), eq(subscriptions.deleted, false), eq(subscriptions.enabled, true), eq(subscriptions.summaryEnabled, true)));
      return row?.n ?? 0;
    },
  };
}

export type SubscriptionsRepository = ReturnType<typeof createSubscriptionsRepository>;
