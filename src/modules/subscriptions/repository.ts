import { and, asc, count, desc, eq, getTableColumns, gt, gte, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { escapeLike } from '../../db/like.js';
import {
  jobs,
  savedHeatmaps,
  subscriptionDeliveries,
  type SubscriptionDeliveryRow,
  type SubscriptionRow,
  subscriptions,
  type TeamRow,
  teams,
  type UserBasicRow,
  userBasicColumns,
  users,
} from '../../db/schema/index.js';
import type { PageParams } from '../../lib/wire.js';

export type NewSubscription = typeof subscriptions.$inferInsert;
export type { SubscriptionDeliveryRow, SubscriptionRow };
export type NewSubscriptionDelivery = typeof subscriptionDeliveries.$inferInsert;

/** The error of a delivery whose job gave up on it, before the job's own last error. */
export const ABANDONED_PREFIX = 'The delivery was not finished: ';

/** A subscription with what its response names: its creator and its saved heatmap. */
export type SubscriptionWithRefs = SubscriptionRow & {
  createdBy: UserBasicRow | null;
  heatmap: { shortId: string; name: string | null; url: string; dataUrl: string | null } | null;
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
    heatmap: { shortId: savedHeatmaps.shortId, name: savedHeatmaps.name, url: savedHeatmaps.url, dataUrl: savedHeatmaps.dataUrl },
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

    /**
     * Live, enabled subscriptions whose next delivery is at or before `horizon` (the scheduler's look-ahead), in
     * (next_delivery_date, id) order; `after` is the last one of the previous page.
     */
    async due(horizon: string, limit: number, after?: { nextDeliveryDate: string; id: number }): Promise<{ id: number; teamId: number; nextDeliveryDate: string }[]> {
      const conditions: SQL[] = [eq(subscriptions.deleted, false), eq(subscriptions.enabled, true), lte(subscriptions.nextDeliveryDate, horizon)];
      if (after) {
        conditions.push(or(gt(subscriptions.nextDeliveryDate, after.nextDeliveryDate), and(eq(subscriptions.nextDeliveryDate, after.nextDeliveryDate), gt(subscriptions.id, after.id)))!);
      }
      const rows = await db
        .select({ id: subscriptions.id, teamId: subscriptions.teamId, nextDeliveryDate: subscriptions.nextDeliveryDate })
        .from(subscriptions)
        .where(and(...conditions))
        .orderBy(asc(subscriptions.nextDeliveryDate), asc(subscriptions.id))
        .limit(limit);
      return rows.map((row) => ({ ...row, nextDeliveryDate: row.nextDeliveryDate! }));
    },

    async findTeam(teamId: number): Promise<TeamRow | undefined> {
      const [row] = await db.select().from(teams).where(eq(teams.id, teamId));
      return row;
    },

    /** Any team's subscription by id (delivery jobs). */
    async findAnyTeam(id: number): Promise<SubscriptionWithRefs | undefined> {
      const [row] = await select(db).where(eq(subscriptions.id, id));
      return row;
    },

    /** Moves next_delivery_date on from `slot`, only if it still is `slot` (a slot advances once); false otherwise. */
    async advance(id: number, slot: string, next: string | null): Promise<boolean> {
      const rows = await db
        .update(subscriptions)
        .set({ nextDeliveryDate: next })
        .where(and(eq(subscriptions.id, id), eq(subscriptions.nextDeliveryDate, slot)))
        .returning({ id: subscriptions.id });
      return rows.length > 0;
    },

    /** Inserts the delivery unless the subscription has one with its idempotency key; answers the stored one then. */
    async startDelivery(values: NewSubscriptionDelivery): Promise<{ row: SubscriptionDeliveryRow; created: boolean }> {
      const [inserted] = await db
        .insert(subscriptionDeliveries)
        .values(values)
        .onConflictDoNothing({ target: [subscriptionDeliveries.subscriptionId, subscriptionDeliveries.idempotencyKey] })
        .returning();
      if (inserted) return { row: inserted, created: true };
      const [stored] = await db
        .select()
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.subscriptionId, values.subscriptionId), eq(subscriptionDeliveries.idempotencyKey, values.idempotencyKey)));
      return { row: stored!, created: false };
    },

    /** The subscription's delivery with this idempotency key, if one was started. */
    async deliveryByKey(subscriptionId: number, idempotencyKey: string): Promise<SubscriptionDeliveryRow | undefined> {
      const [row] = await db
        .select()
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.subscriptionId, subscriptionId), eq(subscriptionDeliveries.idempotencyKey, idempotencyKey)));
      return row;
    },

    /** Ends a `starting` delivery as failed or skipped, only if `jobId` still holds it; false otherwise. */
    async endDelivery(id: string, jobId: number | null, values: { status: 'failed' | 'skipped'; error: { message: string } }): Promise<boolean> {
      const rows = await db
        .update(subscriptionDeliveries)
        .set({ ...values, lastUpdatedAt: sql`now()`, finishedAt: sql`now()` })
        .where(and(eq(subscriptionDeliveries.id, id), eq(subscriptionDeliveries.status, 'starting'), jobId === null ? isNull(subscriptionDeliveries.jobId) : eq(subscriptionDeliveries.jobId, jobId)))
        .returning({ id: subscriptionDeliveries.id });
      return rows.length > 0;
    },

    /**
     * Fails the `starting` deliveries held by a delivery job that failed since `since` (the queue fails a job whose
     * worker died on its last attempt without running it again): no job will finish them. Found from the failed jobs,
     * which are few, by their payload's subscription. Returns how many.
     */
    async failAbandonedDeliveries(kind: string, since: string): Promise<number> {
      const rows = await db
        .update(subscriptionDeliveries)
        .set({
          status: 'failed',
          error: sql`jsonb_build_object('message', ${ABANDONED_PREFIX}::text || coalesce(${jobs.lastError}, 'its job failed'))`,
          lastUpdatedAt: sql`now()`,
          finishedAt: sql`now()`,
        })
        .from(jobs)
        .where(
          and(
            eq(jobs.kind, kind),
            eq(jobs.status, 'failed'),
            gte(jobs.finishedAt, since),
            eq(subscriptionDeliveries.subscriptionId, sql`(${jobs.payload}->>'subscriptionId')::integer`),
            eq(subscriptionDeliveries.jobId, jobs.id),
            eq(subscriptionDeliveries.status, 'starting'),
          ),
        )
        .returning({ id: subscriptionDeliveries.id });
      return rows.length;
    },

    /** Hands a `starting` delivery to another job (its follow-up, or the twin it was handed on to), only if `fromJobId` still holds it. */
    async takeOverDelivery(id: string, fromJobId: number | null, toJobId: number): Promise<boolean> {
      const rows = await db
        .update(subscriptionDeliveries)
        .set({ jobId: toJobId, lastUpdatedAt: sql`now()` })
        .where(and(eq(subscriptionDeliveries.id, id), eq(subscriptionDeliveries.status, 'starting'), fromJobId === null ? isNull(subscriptionDeliveries.jobId) : eq(subscriptionDeliveries.jobId, fromJobId)))
        .returning({ id: subscriptionDeliveries.id });
      return rows.length > 0;
    },

    /** A test delivery of the subscription is under way. */
    async hasManualDeliveryStarting(subscriptionId: number): Promise<boolean> {
      const rows = await db
        .select({ id: subscriptionDeliveries.id })
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.subscriptionId, subscriptionId), eq(subscriptionDeliveries.triggerType, 'manual'), eq(subscriptionDeliveries.status, 'starting')))
        .limit(1);
      return rows.length > 0;
    },

    async updateDelivery(id: string, values: Partial<NewSubscriptionDelivery>): Promise<void> {
      await db
        .update(subscriptionDeliveries)
        .set({ ...values, lastUpdatedAt: sql`now()`, ...(values.status && values.status !== 'starting' && { finishedAt: sql`now()` }) })
        .where(eq(subscriptionDeliveries.id, id));
    },

    /** A page of the subscription's deliveries, newest first, after the cursor's (created_at, id). */
    async deliveries(teamId: number, subscriptionId: number, filters: { status?: string; before?: { createdAt: string; id: string } }, limit: number): Promise<SubscriptionDeliveryRow[]> {
      const conditions: SQL[] = [eq(subscriptionDeliveries.teamId, teamId), eq(subscriptionDeliveries.subscriptionId, subscriptionId)];
      if (filters.status) conditions.push(eq(subscriptionDeliveries.status, filters.status));
      if (filters.before) {
        const { createdAt, id } = filters.before;
        conditions.push(or(lt(subscriptionDeliveries.createdAt, createdAt), and(eq(subscriptionDeliveries.createdAt, createdAt), lt(subscriptionDeliveries.id, id)))!);
      }
      return db
        .select()
        .from(subscriptionDeliveries)
        .where(and(...conditions))
        .orderBy(desc(subscriptionDeliveries.createdAt), desc(subscriptionDeliveries.id))
        .limit(limit);
    },

    async findDelivery(teamId: number, subscriptionId: number, id: string): Promise<SubscriptionDeliveryRow | undefined> {
      const [row] = await db
        .select()
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.teamId, teamId), eq(subscriptionDeliveries.subscriptionId, subscriptionId), eq(subscriptionDeliveries.id, id)));
      return row;
    },

    /** When the newest completed scheduled delivery before this slot started: a report covers what happened since. */
    async lastReportTime(subscriptionId: number, beforeSlot: string): Promise<string | null> {
      const [row] = await db
        .select({ createdAt: subscriptionDeliveries.createdAt })
        .from(subscriptionDeliveries)
        .where(
          and(
            eq(subscriptionDeliveries.subscriptionId, subscriptionId),
            eq(subscriptionDeliveries.triggerType, 'scheduled'),
            eq(subscriptionDeliveries.status, 'completed'),
            lt(subscriptionDeliveries.scheduledAt, beforeSlot),
          ),
        )
        .orderBy(desc(subscriptionDeliveries.scheduledAt))
        .limit(1);
      return row?.createdAt ?? null;
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
