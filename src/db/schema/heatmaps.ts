import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { HEATMAP_STATUSES, HEATMAP_TYPES } from '../enums.js';
import { bytea, createdAt, updatedAt } from './columns.js';
import { teams } from './teams.js';
import { users } from './users.js';

export const savedHeatmaps = pgTable(
  'saved_heatmaps',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    shortId: varchar('short_id', { length: 12 }).notNull(),
    name: varchar('name', { length: 400 }),
    url: varchar('url', { length: 2000 }).notNull(),
    dataUrl: varchar('data_url', { length: 2000 }),
    targetWidths: jsonb('target_widths').$type<number[]>().notNull().default(sql`'[]'::jsonb`),
    type: varchar('type', { length: 20, enum: HEATMAP_TYPES }).notNull().default('screenshot'),
    status: varchar('status', { length: 20, enum: HEATMAP_STATUSES }).notNull().default('processing'),
    blockConsentModals: boolean('block_consent_modals').notNull().default(false),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    exception: text('exception'),
    deleted: boolean('deleted').notNull().default(false),
    /**
     * Bumped whenever the snapshots are thrown away (regenerate, a new url): a render only writes while the
     * generation it started with is current, so a superseded render can never store stale images.
     */
    renderGeneration: integer('render_generation').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('saved_heatmaps_team_short_id').on(t.teamId, t.shortId),
    index('saved_heatmaps_team_list').on(t.teamId, t.deleted, t.updatedAt),
    index('saved_heatmaps_team_url').on(t.teamId, t.url),
    index('saved_heatmaps_created_by').on(t.createdById),
    index('saved_heatmaps_processing').on(t.updatedAt).where(sql`status = 'processing'`),
  ],
);

export const heatmapSnapshots = pgTable(
  'heatmap_snapshots',
  {
    id: uuid('id').primaryKey(),
    heatmapId: uuid('heatmap_id')
      .notNull()
      .references(() => savedHeatmaps.id, { onDelete: 'cascade' }),
    width: integer('width').notNull(),
    content: bytea('content'),
    /** Reserved for object storage, as PostHog's content_location; never written yet. */
    contentLocation: text('content_location'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('heatmap_snapshots_heatmap_width').on(t.heatmapId, t.width)],
);
