import { eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { type SessionRow, sessions } from '../../db/schema/index.js';

export function createSessionsRepository(db: Db) {
  // Every browser request runs this (see api-keys/repository.ts on why it is prepared).
  const activeQuery = db
    .select()
    .from(sessions)
    .where(sql`${sessions.id} = ${sql.placeholder('id')} and ${sessions.expiresAt} > now()`)
    .prepare('active_session');

  return {
    async insert(values: { id: string; userId: number; ttlSeconds: number }, tx: Db = db): Promise<SessionRow> {
      const [row] = await tx
        .insert(sessions)
        .values({ id: values.id, userId: values.userId, expiresAt: sql`now() + make_interval(secs => ${values.ttlSeconds})` })
        .returning();
      return row!;
    },

    /** The session, when it exists and has not expired. */
    async findActive(id: string): Promise<SessionRow | undefined> {
      const [row] = await activeQuery.execute({ id });
      return row;
    },

    async delete(id: string, tx: Db = db): Promise<void> {
      await tx.delete(sessions).where(eq(sessions.id, id));
    },

    async deleteForUserExcept(userId: number, keepId: string | null, tx: Db = db): Promise<void> {
      await tx.delete(sessions).where(
        keepId === null ? eq(sessions.userId, userId) : sql`${sessions.userId} = ${userId} and ${sessions.id} <> ${keepId}`,
      );
    },

    async markAuthenticated(id: string, tx: Db = db): Promise<void> {
      await tx.update(sessions).set({ authenticatedAt: sql`now()` }).where(eq(sessions.id, id));
    },

    async deleteExpired(tx: Db = db): Promise<number> {
      const rows = await tx.delete(sessions).where(lt(sessions.expiresAt, sql`now()`)).returning({ id: sessions.id });
      return rows.length;
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
