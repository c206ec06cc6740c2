import { index, integer, jsonb, pgTable, serial, text, varchar } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.js';
import { teams } from './teams.js';
import { users } from './users.js';

/**
 * PostHog's ExportedAsset. dashboard_id and insight_id name objects Burrow does not have, so they carry no foreign
 * key (create refuses any id). The file's bytes are in the blob store under content_key.
 */
export const exportedAssets = pgTable(
  'exported_assets',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    dashboardId: integer('dashboard_id'),
    insightId: integer('insight_id'),
    exportFormat: varchar('export_format', { length: 100 }).notNull(),
    /** The blob store key of the file; null until it is produced. */
    contentKey: text('content_key'),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    exportContext: jsonb('export_context').$type<unknown>(),
    exception: text('exception'),
    exceptionType: varchar('exception_type', { length: 255 }),
    createdAt: createdAt(),
    expiresAfter: timestamptz('expires_after'),
  },
  (t) => [
    index('exported_assets_team_creator').on(t.teamId, t.createdById, t.createdAt),
    index('exported_assets_created_by').on(t.createdById),
    index('exported_assets_expires_after').on(t.expiresAfter),
  ],
);

export type ExportedAssetRow = typeof exportedAssets.$inferSelect;
