import { and, asc, count, eq, getTableColumns } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type IntegrationRow, integrations, type UserBasicRow, userBasicColumns, users } from '../../db/schema/index.js';
import type { PageParams } from '../../lib/wire.js';

export type NewIntegration = typeof integrations.$inferInsert;
export type IntegrationWithCreator = IntegrationRow & { createdBy: UserBasicRow | null };

export function createIntegrationsRepository(db: Db) {
  const select = () =>
    db
      .select({ ...getTableColumns(integrations), createdBy: userBasicColumns })
      .from(integrations)
      .leftJoin(users, eq(users.id, integrations.createdById));

  return {
    async list(teamId: number, page: PageParams): Promise<{ rows: IntegrationWithCreator[]; count: number }> {
      const rows = await select().where(eq(integrations.teamId, teamId)).orderBy(asc(integrations.id)).limit(page.limit).offset(page.offset);
      const [total] = await db.select({ n: count() }).from(integrations).where(eq(integrations.teamId, teamId));
      return { rows, count: total?.n ?? 0 };
    },

    async find(teamId: number, id: number): Promise<IntegrationWithCreator | undefined> {
      const [row] = await select().where(and(eq(integrations.teamId, teamId), eq(integrations.id, id)));
      return row;
    },

    /** Connecting the same account again replaces its config and secrets (PostHog's update_or_create). */
    async upsert(values: NewIntegration): Promise<number> {
      const [row] = await db
        .insert(integrations)
        .values(values)
        .onConflictDoUpdate({
          target: [integrations.teamId, integrations.kind, integrations.integrationId],
          set: { config: values.config, sensitiveConfig: values.sensitiveConfig, errors: '' },
        })
        .returning({ id: integrations.id });
      return row!.id;
    },

    async delete(teamId: number, id: number): Promise<boolean> {
      const rows = await db
        .delete(integrations)
        .where(and(eq(integrations.teamId, teamId), eq(integrations.id, id)))
        .returning({ id: integrations.id });
      return rows.length > 0;
    },
  };
}

export type IntegrationsRepository = ReturnType<typeof createIntegrationsRepository>;
