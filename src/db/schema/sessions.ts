import { index, integer, pgTable, varchar } from 'drizzle-orm/pg-core';
import { createdAt, timestamptz } from './columns.js';
import { users } from './users.js';

export const sessions = pgTable(
  'sessions',
  {
    /** sha256 hex of the cookie value; the cookie value itself is never stored. */
    id: varchar('id', { length: 64 }).primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    /** When the user last typed their password in this session (PostHog's "recently authenticated"). */
    authenticatedAt: timestamptz('authenticated_at').notNull().defaultNow(),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [index('sessions_user').on(t.userId), index('sessions_expires').on(t.expiresAt)],
);

export type SessionRow = typeof sessions.$inferSelect;
