import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type PersonalApiKeyRow, personalApiKeys, type UserRow, users } from '../../db/schema/index.js';

export type NewPersonalApiKey = typeof personalApiKeys.$inferInsert;

export function createApiKeysRepository(db: Db) {
  // Every key-authenticated request that misses the auth cache runs this; preparing it once skips drizzle's
  // per-call query building, which costs more than the query itself.
  const activeBySecureValue = db
    .select({ key: personalApiKeys, user: users })
    .from(personalApiKeys)
    .innerJoin(users, eq(users.id, personalApiKeys.userId))
    .where(and(eq(personalApiKeys.secureValue, sql.placeholder('secureValue')), eq(users.isActive, true)))
    .prepare('active_key_by_secure_value');

  return {
    /** The key and its user, looked up by the key's hash through the unique index; inactive users never match. */
    async findActiveBySecureValue(secureValue: string): Promise<{ key: PersonalApiKeyRow; user: UserRow } | undefined> {
      const [row] = await activeBySecureValue.execute({ secureValue });
      return row;
    },

    async listForUser(userId: number, tx: Db = db): Promise<PersonalApiKeyRow[]> {
      return tx
        .select()
        .from(personalApiKeys)
        .where(eq(personalApiKeys.userId, userId))
        .orderBy(desc(personalApiKeys.createdAt), desc(personalApiKeys.id));
    },

    async countForUser(userId: number, tx: Db = db): Promise<number> {
      const [row] = await tx.select({ n: count() }).from(personalApiKeys).where(eq(personalApiKeys.userId, userId));
      return row?.n ?? 0;
    },

    async findForUser(id: string, userId: number, tx: Db = db): Promise<PersonalApiKeyRow | undefined> {
      const [row] = await tx
        .select()
        .from(personalApiKeys)
        .where(and(eq(personalApiKeys.id, id), eq(personalApiKeys.userId, userId)));
      return row;
    },

    async insert(values: NewPersonalApiKey, tx: Db = db): Promise<PersonalApiKeyRow> {
      const [row] = await tx.insert(personalApiKeys).values(values).returning();
      return row!;
    },

    async update(id: string, userId: number, patch: Partial<NewPersonalApiKey>, tx: Db = db): Promise<PersonalApiKeyRow | undefined> {
      const owned = and(eq(personalApiKeys.id, id), eq(personalApiKeys.userId, userId));
      // An empty PATCH changes nothing (and SQL has no UPDATE without a SET): the key as it is.
      const [row] =
        Object.keys(patch).length === 0
          ? await tx.select().from(personalApiKeys).where(owned)
          : await tx.update(personalApiKeys).set(patch).where(owned).returning();
      return row;
    },

    async roll(id: string, userId: number, values: { secureValue: string; maskValue: string }, tx: Db = db): Promise<PersonalApiKeyRow | undefined> {
      const [row] = await tx
        .update(personalApiKeys)
        .set({ ...values, lastRolledAt: sql`now()` })
        .where(and(eq(personalApiKeys.id, id), eq(personalApiKeys.userId, userId)))
        .returning();
      return row;
    },

    async delete(id: string, userId: number, tx: Db = db): Promise<boolean> {
      const rows = await tx
        .delete(personalApiKeys)
        .where(and(eq(personalApiKeys.id, id), eq(personalApiKeys.userId, userId)))
        .returning({ id: personalApiKeys.id });
      return rows.length > 0;
    },

    /** Writes last_used_at only when it is unset or more than an hour old, as PostHog does. */
    async touchLastUsed(id: string, tx: Db = db): Promise<string | null> {
      const [row] = await tx
        .update(personalApiKeys)
        .set({ lastUsedAt: sql`now()` })
        .where(
          and(
            eq(personalApiKeys.id, id),
            sql`(${personalApiKeys.lastUsedAt} is null or ${personalApiKeys.lastUsedAt} < now() - interval '1 hour')`,
          ),
        )
        .returning({ lastUsedAt: personalApiKeys.lastUsedAt });
      return row?.lastUsedAt ?? null;
    },
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
