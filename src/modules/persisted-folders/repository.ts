import { and, asc, count, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { persistedFolders } from '../../db/schema/index.js';
import { newUuid } from '../../lib/ids.js';
import type { PageParams } from '../../lib/wire.js';

export type PersistedFolderRow = typeof persistedFolders.$inferSelect;
export type PersistedFolderType = PersistedFolderRow['type'];

/** Whose folders a query sees: one user in one team, on one product surface (PostHog's safely_get_queryset). */
export interface FolderOwner {
  teamId: number;
  userId: number;
  surface: string;
}

export interface FolderValues {
  type: PersistedFolderType;
  protocol: string;
  path: string;
}

/** The unique index on (team_id, user_id, type, surface) that makes create an upsert. */
const UNIQUE_INDEX = 'persisted_folders_team_user_type';

/** Both drivers report Postgres errors with code and constraint; drizzle wraps them in a `cause`. */
function violatesUniqueIndex(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Object; current = (current as { cause?: unknown }).cause) {
    const fields = current as { code?: unknown; constraint?: unknown };
    if (fields.code === '23505' && fields.constraint === UNIQUE_INDEX) return true;
  }
  return false;
}

export function createPersistedFoldersRepository(db: Db) {
  const owned = (owner: FolderOwner) =>
    and(eq(persistedFolders.teamId, owner.teamId), eq(persistedFolders.userId, owner.userId), eq(persistedFolders.surface, owner.surface));
  const ownedById = (owner: FolderOwner, id: string) => and(owned(owner), eq(persistedFolders.id, id));

  const ownerPlaceholders = and(
    eq(persistedFolders.teamId, sql.placeholder('teamId')),
    eq(persistedFolders.userId, sql.placeholder('userId')),
    eq(persistedFolders.surface, sql.placeholder('surface')),
  );
  // The page and the total in one prepared round trip: this list is fetched on every page load of the web app
  // (bench/tree measures it against the bare baseline of bench/api).
  const pageQuery = db
    .select({ row: persistedFolders, total: sql<number>`(count(*) over ())::int` })
    .from(persistedFolders)
    .where(ownerPlaceholders)
    .orderBy(sql`lower(${persistedFolders.type})`, asc(persistedFolders.id))
    .limit(sql.placeholder('limit'))
    .offset(sql.placeholder('offset'))
    .prepare('persisted_folders_page');
  const countQuery = db.select({ n: count() }).from(persistedFolders).where(ownerPlaceholders).prepare('persisted_folders_count');

  return {
    /** The owner's folders by lower(type), as PostHog orders them; the id keeps pages stable. */
    async list(owner: FolderOwner, page: PageParams): Promise<{ rows: PersistedFolderRow[]; count: number }> {
      const params = { teamId: owner.teamId, userId: owner.userId, surface: owner.surface };
      const found = await pageQuery.execute({ ...params, limit: page.limit, offset: page.offset });
      if (found.length > 0) return { rows: found.map((r) => r.row), count: found[0]!.total };
      // An empty page says nothing about the total when it lies past the end.
      if (page.offset === 0) return { rows: [], count: 0 };
      const [total] = await countQuery.execute(params);
      return { rows: [], count: total?.n ?? 0 };
    },

    async find(owner: FolderOwner, id: string, tx: Db = db): Promise<PersistedFolderRow | undefined> {
      const [row] = await tx.select().from(persistedFolders).where(ownedById(owner, id));
      return row;
    },

    /**
     * Inserts the owner's folder of this type, or overwrites protocol and path of the one already there (keeping its
     * id and created_at, bumping updated_at). One statement, so concurrent creates cannot collide.
     */
    async upsert(owner: FolderOwner, values: FolderValues, tx: Db = db): Promise<PersistedFolderRow> {
      const [row] = await tx
        .insert(persistedFolders)
        .values({ id: newUuid(), teamId: owner.teamId, userId: owner.userId, surface: owner.surface, ...values })
        .onConflictDoUpdate({
          target: [persistedFolders.teamId, persistedFolders.userId, persistedFolders.type, persistedFolders.surface],
          set: { protocol: sql`excluded.protocol`, path: sql`excluded.path`, updatedAt: sql`now()` },
        })
        .returning();
      return row!;
    },

    /**
     * Changes the owner's folder and bumps updated_at (Django's auto_now); undefined when the owner has no such
     * folder, 'conflict' when the owner already has another folder of the new type.
     */
    async update(owner: FolderOwner, id: string, patch: Partial<FolderValues>, tx: Db = db): Promise<PersistedFolderRow | undefined | 'conflict'> {
      try {
        const [row] = await tx
          .update(persistedFolders)
          .set({ ...patch, updatedAt: sql`now()` })
          .where(ownedById(owner, id))
          .returning();
        return row;
      } catch (error) {
        if (violatesUniqueIndex(error)) return 'conflict';
        throw error;
      }
    },

    async delete(owner: FolderOwner, id: string, tx: Db = db): Promise<boolean> {
      const rows = await tx.delete(persistedFolders).where(ownedById(owner, id)).returning({ id: persistedFolders.id });
      return rows.length > 0;
    },
  };
}

export type PersistedFoldersRepository = ReturnType<typeof createPersistedFoldersRepository>;
