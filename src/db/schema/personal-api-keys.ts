import { index, integer, pgTable, text, varchar } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.js';
import { users } from './users.js';

export const personalApiKeys = pgTable(
  'personal_api_keys',
  {
    id: varchar('id', { length: 50 }).primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    label: varchar('label', { length: 40 }).notNull(),
    /** "sha256$<hex>" of the key; the key itself is never stored. */
    secureValue: varchar('secure_value', { length: 300 }).notNull().unique(),
    maskValue: varchar('mask_value', { length: 11 }).notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamptz('last_used_at'),
    lastRolledAt: timestamptz('last_rolled_at'),
    scopes: text('scopes').array(),
    scopedTeams: integer('scoped_teams').array(),
    scopedOrganizations: text('scoped_organizations').array(),
  },
  (t) => [index('personal_api_keys_user').on(t.userId)],
);

export type PersonalApiKeyRow = typeof personalApiKeys.$inferSelect;
