import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, serial, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.js';
import { organizations } from './organizations.js';

/** A project shares its id with its first team (PostHog's create_with_team takes one value of teams_id_seq). */
export const projects = pgTable(
  'projects',
  {
    id: integer('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 200 }).notNull(),
    /**
     * The project tree may hold rows with a wrong depth or a missing parent folder (a PATCH of a path leaves them, as
     * in PostHog): the next `file_system/unfiled/` scans and repairs the tree, instead of every one doing so.
     */
    fileSystemRepairDue: boolean('file_system_repair_due').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('projects_organization').on(t.organizationId)],
);

export const teams = pgTable(
  'teams',
  {
    id: serial('id').primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 200 }).notNull(),
    apiToken: varchar('api_token', { length: 200 }).notNull().unique(),
    secretApiToken: varchar('secret_api_token', { length: 200 }).unique(),
    timezone: varchar('timezone', { length: 240 }).notNull().default('UTC'),
    isDemo: boolean('is_demo').notNull().default(false),
    ingestedEvent: boolean('ingested_event').notNull().default(false),
    completedSnippetOnboarding: boolean('completed_snippet_onboarding').notNull().default(false),
    hasCompletedOnboardingFor: jsonb('has_completed_onboarding_for').$type<Record<string, boolean>>(),
    accessControl: boolean('access_control').notNull().default(false),
    anonymizeIps: boolean('anonymize_ips').notNull().default(false),
    appUrls: varchar('app_urls', { length: 200 }).array().notNull().default(sql`'{}'::varchar[]`),
    /** The project settings PostHog's app reads (test_account_filters, data_attributes, ...), by their wire names. */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('teams_organization').on(t.organizationId), index('teams_project').on(t.projectId)],
);

export type ProjectRow = typeof projects.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
