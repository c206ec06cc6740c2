import { index, integer, jsonb, pgTable, serial, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { teams } from './teams.js';
import { users } from './users.js';

/**
 * PostHog's Integration (posthog_integration), for the one kind Burrow has: `slack`, a workspace's bot token.
 * integration_id is the provider's id of the account (the Slack workspace), unique per team and kind, so connecting the
 * same workspace again replaces its token. sensitive_config is the sealed JSON of the secrets (lib/secret-box).
 */
export const integrations = pgTable(
  'integrations',
  {
    id: serial('id').primaryKey(),
    teamId: integer('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    kind: varchar('kind', { length: 20 }).notNull(),
    integrationId: text('integration_id').notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    sensitiveConfig: text('sensitive_config').notNull(),
    errors: text('errors').notNull().default(''),
    createdAt: createdAt(),
    createdById: integer('created_by_id').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [uniqueIndex('integrations_team_kind_account').on(t.teamId, t.kind, t.integrationId), index('integrations_created_by').on(t.createdById)],
);

export type IntegrationRow = typeof integrations.$inferSelect;
