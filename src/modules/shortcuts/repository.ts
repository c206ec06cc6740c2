import { and, asc, count, desc, eq, inArray, max, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { fileSystemShortcuts, teams } from '../../db/schema/index.js';
import { newUuid } from '../../lib/ids.js';
import type { PageParams } from '../../lib/wire.js';
import { MAX_ORDER, type ShortcutOrdering } from './contract.js';

/** The length of file_system_shortcuts.ref (PostHog's max_length). */
const SHORTCUT_REF_MAX_LENGTH = 100;

export type FileSystemShortcutRow = typeof fileSystemShortcuts.$inferSelect;
export type NewFileSystemShortcut = typeof fileSystemShortcuts.$inferInsert;

/** Whose shortcuts a query sees: one user, in the team of the URL and the other teams of its project. */
export interface ShortcutOwner {
  teamId: number;
  projectId: number;
  userId: number;
}

export interface ShortcutValues {
  path: string;
  type: string;
  ref: string | null;
  href: string | null;
}

const ORDERINGS: Record<ShortcutOrdering, SQL[]> = {
  default: [asc(fileSystemShortcuts.order), sql`lower(${fileSystemShortcuts.path})`, asc(fileSystemShortcuts.id)],
  created_at: [asc(fileSystemShortcuts.createdAt), asc(fileSystemShortcuts.id)],
  '-created_at': [desc(fileSystemShortcuts.createdAt), desc(fileSystemShortcuts.id)],
};

export function createFileSystemShortcutsRepository(db: Db) {
  /**
   * PostHog's queryset: the user's shortcuts in any team of the project, except hog function shortcuts, which only
   * their own team sees.
   */
  const visible = (owner: ShortcutOwner, tx: Db) =>
    and(
      eq(fileSystemShortcuts.userId, owner.userId),
      inArray(fileSystemShortcuts.teamId, tx.select({ id: teams.id }).from(teams).where(eq(teams.projectId, owner.projectId))),
      or(eq(fileSystemShortcuts.teamId, owner.teamId), sql`not starts_with(${fileSystemShortcuts.type}, 'hog_function/')`),
    );

  return {
    async list(owner: ShortcutOwner, ordering: ShortcutOrdering, page: PageParams, tx: Db = db) {
      const where = visible(owner, tx);
      const [rows, [total]] = await Promise.all([
        tx
          .select()
          .from(fileSystemShortcuts)
          .where(where)
          .orderBy(...ORDERINGS[ordering])
          .limit(page.limit)
          .offset(page.offset),
        tx.select({ n: count() }).from(fileSystemShortcuts).where(where),
      ]);
      return { rows, count: total?.n ?? 0 };
    },

    async find(owner: ShortcutOwner, id: string, tx: Db = db): Promise<FileSystemShortcutRow | undefined> {
      const [row] = await tx
        .select()
        .from(fileSystemShortcuts)
        .where(and(visible(owner, tx), eq(fileSystemShortcuts.id, id)));
      return row;
    },

    /** A plain insert (the home folder's star uses it with order -1). */
    async insert(values: Omit<NewFileSystemShortcut, 'id'>, tx: Db = db): Promise<FileSystemShortcutRow> {
      const [row] = await tx
        .insert(fileSystemShortcuts)
        .values({ id: newUuid(), ...values })
        .returning();
      return row!;
    },

    /**
     * Stars an item for the user in the team: the shortcut the user already has for exactly this item (path, type,
     * ref, href) if there is one, else a new one placed after the user's last (or at `order` when given). A per-user
     * advisory lock serialises concurrent stars, so they neither duplicate nor share an order.
     */
    star(owner: ShortcutOwner, values: ShortcutValues, order: number | undefined, outer: Db = db): Promise<FileSystemShortcutRow> {
      return outer.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`burrow.file_system_shortcuts:${owner.teamId}:${owner.userId}`}, 0))`);
        const mine = and(eq(fileSystemShortcuts.teamId, owner.teamId), eq(fileSystemShortcuts.userId, owner.userId));
        const [duplicate] = await tx
          .select()
          .from(fileSystemShortcuts)
          .where(
            and(
              mine,
              eq(fileSystemShortcuts.path, values.path),
              eq(fileSystemShortcuts.type, values.type),
              sql`${fileSystemShortcuts.ref} is not distinct from ${values.ref}`,
              sql`${fileSystemShortcuts.href} is not distinct from ${values.href}`,
            ),
          )
          .orderBy(asc(fileSystemShortcuts.id))
          .limit(1);
        if (duplicate) return duplicate;
        let position = order;
        if (position === undefined) {
          const [last] = await tx.select({ order: max(fileSystemShortcuts.order) }).from(fileSystemShortcuts).where(mine);
          // PostHog's (last_order or 0) + 1, kept inside the column's range.
          position = Math.min((last?.order ?? 0) + 1, MAX_ORDER);
        }
        const [row] = await tx
          .insert(fileSystemShortcuts)
          .values({ id: newUuid(), teamId: owner.teamId, userId: owner.userId, ...values, order: position })
          .returning();
        return row!;
      });
    },

    /** Changes a visible shortcut; like PostHog's serializer it also moves the shortcut to the team of the URL. */
    async update(
      owner: ShortcutOwner,
      id: string,
      patch: Partial<ShortcutValues & { order: number }>,
      tx: Db = db,
    ): Promise<FileSystemShortcutRow | undefined> {
      const [row] = await tx
        .update(fileSystemShortcuts)
        .set({ ...patch, teamId: owner.teamId })
        .where(and(visible(owner, tx), eq(fileSystemShortcuts.id, id)))
        .returning();
      return row;
    },

    /** Starred shortcuts to an object go with it (PostHog's FileSystemSyncMixin on delete). */
    async deleteForObject(teamId: number, type: string, ref: string, tx: Db = db): Promise<void> {
      await tx
        .delete(fileSystemShortcuts)
        .where(and(eq(fileSystemShortcuts.teamId, teamId), eq(fileSystemShortcuts.type, type), eq(fileSystemShortcuts.ref, ref)));
    },

    /** Starred shortcuts follow their object's new name and href. */
    async renameForObject(teamId: number, type: string, ref: string, values: { path: string; href: string | null }, tx: Db = db): Promise<void> {
      await tx
        .update(fileSystemShortcuts)
        .set(values)
        .where(and(eq(fileSystemShortcuts.teamId, teamId), eq(fileSystemShortcuts.type, type), eq(fileSystemShortcuts.ref, ref)));
    },

    /**
     * Folder stars follow a moved folder (PostHog G3): every user's star of the folder or of a folder under it, in any
     * team of the project, gets the new path as its ref; the star of the folder itself also takes its new name. A ref
     * that would outgrow its column keeps the old path rather than failing the move.
     */
    async repointFolders(projectId: number, from: string, to: string, name: string, tx: Db = db): Promise<void> {
      const moved = sql`${to} || substr(${fileSystemShortcuts.ref}, ${from.length + 1})`;
      await tx
        .update(fileSystemShortcuts)
        .set({
          ref: moved,
          path: sql`case when ${fileSystemShortcuts.ref} = ${from} then ${name} else ${fileSystemShortcuts.path} end`,
        })
        .where(
          and(
            inArray(fileSystemShortcuts.teamId, tx.select({ id: teams.id }).from(teams).where(eq(teams.projectId, projectId))),
            eq(fileSystemShortcuts.type, 'folder'),
            or(eq(fileSystemShortcuts.ref, from), sql`starts_with(${fileSystemShortcuts.ref}, ${`${from}/`})`),
            sql`length(${moved}) <= ${SHORTCUT_REF_MAX_LENGTH}`,
          ),
        );
    },

    async delete(owner: ShortcutOwner, id: string, tx: Db = db): Promise<boolean> {
      const rows = await tx
        .delete(fileSystemShortcuts)
        .where(and(visible(owner, tx), eq(fileSystemShortcuts.id, id)))
        .returning({ id: fileSystemShortcuts.id });
      return rows.length > 0;
    },
  };
}

export type FileSystemShortcutsRepository = ReturnType<typeof createFileSystemShortcutsRepository>;
