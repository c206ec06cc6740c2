import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, serial, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.js';
import { savedHeatmaps } from './heatmaps.js';
import { integrations } from './integrations.js';
import { teams } from './teams.js';
import { users } from './users.js';

/**
 * PostHog's Subscription (posthog_subscription). dashboard_id and insight_id name objects Burrow does not have, so they
 * carry no foreign key (writes refuse any id); integration_id is a Slack integration's (set null when it is deleted).
 * saved_heatmap_id, recordings_query, width and timezone are Burrow extensions: a report of a saved heatmap or of a
 * recordings query, and a schedule in an IANA time zone.
 */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    dashboardId: integer('dashboard_id'),
    insightId: integer('insight_id'),
    savedHeatmapId: uuid('saved_heatmap_id').references(() => savedHeatmaps.id, { onDelete: 'cascade' }),
    recordingsQuery: jsonb('recordings_query').$type<Record<string, unknown>>(),
    prompt: text('prompt'),
    width: integer('width'),
    title: varchar('title', { length: 100 }),
    targetType: varchar('target_type', { length: 10 }).notNull(),
    targetValue: text('target_value').notNull(),
    frequency: varchar('frequency', { length: 10 }).notNull(),
    interval: integer('interval').notNull().default(1),
    count: integer('count'),
    byweekday: text('byweekday').array(),
    bysetpos: integer('bysetpos'),
    startDate: timestamptz('start_date').notNull(),
    untilDate: timestamptz('until_date'),
    timezone: varchar('timezone', { length: 64 }).notNull().default('UTC'),
    nextDeliveryDate: timestamptz('next_delivery_date'),
    enabled: boolean('enabled').notNull().default(true),
    integrationId: integer('integration_id').references(() => integrations.id, { onDelete: 'set null' }),
    dashboardExportInsights: jsonb('dashboard_export_insights').$type<number[]>().notNull().default(sql`'[]'::jsonb`),
    summaryEnabled: boolean('summary_enabled').notNull().default(false),
    summaryPromptGuide: varchar('summary_prompt_guide', { length: 500 }).notNull().default(''),
    createdAt: createdAt(),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [
    index('subscriptions_team_list').on(t.teamId, t.deleted, t.createdAt),
    index('subscriptions_created_by').on(t.createdById),
    index('subscriptions_saved_heatmap').on(t.savedHeatmapId),
    index('subscriptions_integration').on(t.integrationId),
    index('subscriptions_due').on(t.nextDeliveryDate).where(sql`deleted = false and enabled = true`),
  ],
);

export type SubscriptionRow = typeof subscriptions.$inferSelect;

/**
 * PostHog's SubscriptionDelivery: one delivery of a subscription (a scheduled slot, a test or an invite). A scheduled
 * slot's idempotency_key is `scheduled:<subscription id>:<slot>`, unique per subscription, so a slot is delivered
 * once whatever the number of workers. job_id is the queue job that holds the delivery while it is `starting`.
 */
export const subscriptionDeliveries = pgTable(
  'subscription_deliveries',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    subscriptionId: integer('subscription_id')
      .notNull()
      .references(() => subscriptions.id, { onDelete: 'cascade' }),
    jobId: integer('job_id'),
    idempotencyKey: varchar('idempotency_key', { length: 255 }).notNull(),
    triggerType: varchar('trigger_type', { length: 20 }).notNull(),
    scheduledAt: timestamptz('scheduled_at'),
    targetType: varchar('target_type', { length: 10 }).notNull(),
    targetValue: text('target_value').notNull(),
    exportedAssetIds: jsonb('exported_asset_ids').$type<number[]>().notNull().default(sql`'[]'::jsonb`),
    contentSnapshot: jsonb('content_snapshot').$type<unknown>().notNull().default(sql`'{}'::jsonb`),
    recipientResults: jsonb('recipient_results').$type<unknown[]>().notNull().default(sql`'[]'::jsonb`),
    status: varchar('status', { length: 20 }).notNull(),
    error: jsonb('error').$type<unknown>(),
    createdAt: createdAt(),
    lastUpdatedAt: timestamptz('last_updated_at').notNull().defaultNow(),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    uniqueIndex('subscription_deliveries_idempotency').on(t.subscriptionId, t.idempotencyKey),
    index('subscription_deliveries_list').on(t.subscriptionId, t.createdAt),
    index('subscription_deliveries_team').on(t.teamId),
  ],
);

export type SubscriptionDeliveryRow = typeof subscriptionDeliveries.$inferSelect;
