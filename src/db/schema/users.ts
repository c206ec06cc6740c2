import { sql } from 'drizzle-orm';
import { type AnyPgColumn, boolean, index, integer, jsonb, pgTable, serial, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { jsonbValue, jsonObject, jsonValue } from '../json-text.js';
import { createdAt, timestamptz } from './columns.js';
import { organizations } from './organizations.js';
import { teams } from './teams.js';

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    distinctId: varchar('distinct_id', { length: 200 }).notNull().unique(),
    firstName: varchar('first_name', { length: 150 }).notNull().default(''),
    lastName: varchar('last_name', { length: 150 }).notNull().default(''),
    email: varchar('email', { length: 254 }).notNull(),
    passwordHash: text('password_hash'),
    isEmailVerified: boolean('is_email_verified'),
    isActive: boolean('is_active').notNull().default(true),
    isStaff: boolean('is_staff').notNull().default(false),
    currentOrganizationId: uuid('current_organization_id').references((): AnyPgColumn => organizations.id, {
      onDelete: 'set null',
    }),
    currentTeamId: integer('current_team_id').references((): AnyPgColumn => teams.id, { onDelete: 'set null' }),
    roleAtOrganization: varchar('role_at_organization', { length: 64 }),
    hedgehogConfig: jsonb('hedgehog_config').$type<Record<string, unknown>>(),
    anonymizeData: boolean('anonymize_data').default(false),
    toolbarMode: varchar('toolbar_mode', { length: 200 }).default('toolbar'),
    themeMode: varchar('theme_mode', { length: 20 }),
    eventsColumnConfig: jsonb('events_column_config').$type<unknown>().notNull().default(sql`'{"active": "DEFAULT"}'::jsonb`),
    dateJoined: createdAt(),
    passwordChangedAt: timestamptz('password_changed_at'),
  },
  (t) => [
    uniqueIndex('users_email_lower').on(sql`lower(${t.email})`),
    index('users_current_organization').on(t.currentOrganizationId),
    index('users_current_team').on(t.currentTeamId),
  ],
);

export type UserRow = typeof users.$inferSelect;

/** The columns of PostHog's UserBasic: what lists select for the users they name (never password_hash and the like). */
export const userBasicColumns = {
  id: users.id,
  uuid: users.uuid,
  distinctId: users.distinctId,
  firstName: users.firstName,
  lastName: users.lastName,
  email: users.email,
  isEmailVerified: users.isEmailVerified,
  hedgehogConfig: users.hedgehogConfig,
  roleAtOrganization: users.roleAtOrganization,
};
export type UserBasicRow = Pick<UserRow, keyof typeof userBasicColumns>;

/** UserBasic (identity/contract.ts) of a joined user as JSON text (db/json-text.ts), null when the join found none. */
export const userBasicJson = jsonObject(
  [
    ['id', jsonValue(users.id)],
    ['uuid', jsonValue(users.uuid)],
    ['distinct_id', jsonValue(users.distinctId)],
    ['first_name', jsonValue(users.firstName)],
    ['last_name', jsonValue(users.lastName)],
    ['email', jsonValue(users.email)],
    ['is_email_verified', jsonValue(users.isEmailVerified)],
    ['hedgehog_config', jsonbValue(users.hedgehogConfig)],
    ['role_at_organization', jsonValue(users.roleAtOrganization)],
  ],
  sql`${users.id} is null`,
);
