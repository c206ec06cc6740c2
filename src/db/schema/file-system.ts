import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { PERSISTED_FOLDER_TYPES } from '../enums.js';
import { createdAt, timestamptz, updatedAt } from './columns.js';
import { projects, teams } from './teams.js';
import { users } from './users.js';

/**
 * The project tree (PostHog's posthog_filesystem). Rows of every team of a project form one tree, so rows carry
 * the project id as well. Paths are escaped ("a\/b" is one segment); there is no uniqueness on path.
 */
export const fileSystem = pgTable(
  'file_system',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    depth: integer('depth'),
    type: varchar('type', { length: 100 }).notNull().default(''),
    ref: varchar('ref', { length: 100 }),
    href: text('href'),
    shortcut: boolean('shortcut').default(false),
    meta: jsonb('meta').$type<unknown>().default(sql`'{}'::jsonb`),
    surface: varchar('surface', { length: 100 }).notNull().default('web'),
    createdAt: createdAt(),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [
    // Folder listings: direct children of a path (depth + prefix), in PostHog's order.
    index('file_system_children').on(t.projectId, t.depth, sql`${t.path} text_pattern_ops`),
    index('file_system_path').on(t.projectId, sql`${t.path} text_pattern_ops`),
    index('file_system_lower_path').on(t.projectId, sql`lower(${t.path})`),
    index('file_system_type_ref').on(t.projectId, t.type, t.ref),
    index('file_system_team').on(t.teamId),
    index('file_system_created_by').on(t.createdById),
    // Free-text search (`path ILIKE %t% OR type ILIKE %t%`): trigrams, from the pg_trgm extension (migration 0003).
    index('file_system_search').using('gin', t.path.op('gin_trgm_ops'), t.type.op('gin_trgm_ops')),
  ],
);

/** When each user last opened each object (PostHog's FileSystemViewLog): Recents. */
export const fileSystemViewLogs = pgTable(
  'file_system_view_logs',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: varchar('type', { length: 150 }).notNull(),
    ref: varchar('ref', { length: 200 }).notNull(),
    viewedAt: timestamptz('viewed_at').notNull().defaultNow(),
    surface: varchar('surface', { length: 100 }).notNull().default('web'),
  },
  (t) => [
    uniqueIndex('file_system_view_logs_unique').on(t.teamId, t.userId, t.type, t.ref),
    index('file_system_view_logs_recent').on(t.teamId, t.userId, t.viewedAt),
    index('file_system_view_logs_object').on(t.teamId, t.type, t.ref),
    index('file_system_view_logs_user').on(t.userId),
  ],
);

/** A user's starred entries (PostHog's FileSystemShortcut). */
export const fileSystemShortcuts = pgTable(
  'file_system_shortcuts',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    type: varchar('type', { length: 100 }).notNull().default(''),
    ref: varchar('ref', { length: 100 }),
    href: text('href'),
    order: integer('order').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index('file_system_shortcuts_owner').on(t.teamId, t.userId), index('file_system_shortcuts_user').on(t.userId)],
);

/** Per-user sidebar state (PostHog's PersistedFolder): one row per team, user and type. */
export const persistedFolders = pgTable(
  'persisted_folders',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: varchar('type', { length: 32, enum: PERSISTED_FOLDER_TYPES }).notNull(),
    protocol: varchar('protocol', { length: 64 }).notNull().default('products://'),
    path: text('path').notNull().default(''),
    surface: varchar('surface', { length: 100 }).notNull().default('web'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('persisted_folders_team_user_type').on(t.teamId, t.userId, t.type, t.surface),
    index('persisted_folders_user').on(t.userId),
  ],
);

/** Each user's home folder (PostHog's FileSystemHomeFolder), remembered so it is created once. */
export const fileSystemHomeFolders = pgTable(
  'file_system_home_folders',
  {
    id: uuid('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    folderId: uuid('folder_id').references(() => fileSystem.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('file_system_home_folders_team_user').on(t.teamId, t.userId),
    index('file_system_home_folders_user').on(t.userId),
    index('file_system_home_folders_folder').on(t.folderId),
  ],
);
