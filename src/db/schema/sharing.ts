import { boolean, index, integer, jsonb, pgTable, serial, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.js';
import { teams } from './teams.js';
import { users } from './users.js';

/**
 * A share link of a recording (PostHog's SharingConfiguration): its access token opens the recording without an
 * account. Rotating the token makes a new row and gives the old one an expiry (the grace period).
 */
export const sharingConfigurations = pgTable(
  'sharing_configurations',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    /** The shared recording's session id. */
    recordingId: varchar('recording_id', { length: 200 }).notNull(),
    createdAt: createdAt(),
    enabled: boolean('enabled').notNull().default(false),
    accessToken: varchar('access_token', { length: 400 }).notNull(),
    /** Null while the link is the recording's current one; set when a rotation retires it. */
    expiresAt: timestamptz('expires_at'),
    settings: jsonb('settings').$type<Record<string, unknown>>(),
    passwordRequired: boolean('password_required').notNull().default(false),
  },
  (t) => [uniqueIndex('sharing_configurations_access_token').on(t.accessToken), index('sharing_configurations_recording').on(t.teamId, t.recordingId)],
);

/** A password of a password-protected share (PostHog's SharePassword); deleting one only deactivates it. */
export const sharePasswords = pgTable(
  'share_passwords',
  {
    id: serial('id').primaryKey(),
    sharingConfigurationId: integer('sharing_configuration_id')
      .notNull()
      .references(() => sharingConfigurations.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    note: varchar('note', { length: 100 }),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
    isActive: boolean('is_active').notNull().default(true),
    passwordHash: varchar('password_hash', { length: 300 }).notNull(),
  },
  (t) => [index('share_passwords_configuration').on(t.sharingConfigurationId)],
);

export type SharingConfigurationRow = typeof sharingConfigurations.$inferSelect;
