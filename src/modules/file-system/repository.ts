import { and, asc, count, desc, eq, getTableColumns, gt, inArray, isNull, lt, ne, or, type Placeholder, type SQL, sql, type SQLWrapper } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import type { PageParams } from '../../lib/wire.js';
import { fileSystem, fileSystemHomeFolders, fileSystemViewLogs, projects, type UserBasicRow, userBasicColumns, userBasicJson, users } from '../../db/schema/index.js';
import { escapeLike } from '../../db/like.js';
import { jsonArray, jsonbValue, jsonObject, jsonTimestamp, jsonValue, printJson } from '../../db/json-text.js';
import { preparedByShape, type Statement } from '../../db/prepared-by-shape.js';
import { newUuid } from '../../lib/ids.js';
import { searchCondition } from './repository-search.js';

export type FileSystemRow = typeof fileSystem.$inferSelect;
export type NewFileSystemRow = typeof fileSystem.$inferInsert;
export type FileSystemRowWithCreator = FileSystemRow & { createdBy: UserBasicRow | null };
export type ViewLogRow = typeof fileSystemViewLogs.$inferSelect;
/** A page of the list: its entries as response JSON (FileSystemSchema[]), what each one's meta.created_by holds, the total. */
export interface ListedPage {
  results: string;
  namedUsers: unknown[];
  count: number;
}

/** Where a tree request looks: the team's whole project, except other teams' hog functions (PostHog's rule). */
export interface TreeScope {
  teamId: number;
  projectId: number;
}

export const SURFACE = 'web';

/** LIKE pattern text for "starts with value": paths hold backslashes, so every LIKE metacharacter is escaped. */
const likePrefix = (value: string): string => `${escapeLike(value)}%`;

function scopeCondition(scope: { [K in keyof TreeScope]: TreeScope[K] | SQLWrapper }): SQL {
  return and(
    eq(fileSystem.projectId, scope.projectId),
    eq(fileSystem.surface, SURFACE),
    or(sql`${fileSystem.type} not like 'hog\\_function/%'`, eq(fileSystem.teamId, scope.teamId)),
  )!;
}

/** Rows strictly under a folder path, at any depth. */
const under = (path: string): SQL => sql`${fileSystem.path} like ${likePrefix(`${path}/`)}`;

/** A `search` in the tree's search language, for the caller. */
export interface TreeSearch {
  query: string;
  currentUserId: number;
  /** `search_name_only`: free-text terms match only the last path segment. */
  nameOnly: boolean;
}

/** The list filters, as PostHog's FileSystemViewSet applies them; each is left out when undefined. */
export interface TreeFilters {
  depth?: number;
  path?: string;
  parent?: string;
  type?: string;
  notType?: string;
  typePrefix?: string;
  createdAfter?: string;
  createdBefore?: string;
  search?: TreeSearch;
  ref?: string;
  /** Any of these refs; an empty list matches nothing. */
  refs?: string[];
}

/**
 * List orders: `ref` (canonical rows before shortcuts, then by name, for ref= and refs=), `folders-first` (the default with a depth),
 * `name` (case-insensitive path), and the `order_by` values PostHog honours.
 */
export type TreeOrder = 'ref' | 'folders-first' | 'name' | 'path' | '-path' | 'created_at' | '-created_at';

/**
 * The filters a prepared page binds as parameters: each one's condition on its placeholder and the value bound to it
 * (undefined: the filter is absent). A search (SQL built from the query's tokens) and refs= (a list) are not among
 * them: a page with either is built on every call.
 */
const BOUND_FILTERS: { key: string; condition: (value: SQLWrapper) => SQL; value: (filters: TreeFilters) => unknown }[] = [
  { key: 'depth', condition: (v) => eq(fileSystem.depth, v), value: (f) => f.depth },
  { key: 'path', condition: (v) => eq(fileSystem.path, v), value: (f) => f.path },
  { key: 'parent', condition: (v) => sql`${fileSystem.path} like ${v}`, value: (f) => (f.parent ? likePrefix(`${f.parent}/`) : undefined) },
  { key: 'type', condition: (v) => eq(fileSystem.type, v), value: (f) => f.type },
  { key: 'notType', condition: (v) => ne(fileSystem.type, v), value: (f) => f.notType },
  { key: 'typePrefix', condition: (v) => sql`${fileSystem.type} like ${v}`, value: (f) => f.typePrefix !== undefined ? likePrefix(f.typePrefix) : undefined },
  { key: 'createdAfter', condition: (v) => gt(fileSystem.createdAt, v), value: (f) => f.createdAfter },
  { key: 'createdBefore', condition: (v) => lt(fileSystem.createdAt, v), value: (f) => f.createdBefore },
  { key: 'ref', condition: (v) => eq(fileSystem.ref, v), value: (f) => f.ref },
];

function filterConditions(filters: TreeFilters): SQL[] {
  const where: SQL[] = [];
  for (const filter of BOUND_FILTERS) {
    const value = filter.value(filters);
    if (value !== undefined) where.push(filter.condition(sql`${value}`));
  }
  const search = filters.search && searchCondition(filters.search.query, { currentUserId: filters.search.currentUserId, searchNameOnly: filters.search.nameOnly });
  if (search) where.push(search);
  if (filters.refs !== undefined) where.push(filters.refs.length > 0 ? inArray(fileSystem.ref, filters.refs) : sql`false`);
  return where;
}

function orderBy(order: TreeOrder): SQL[] {
  const byName = sql`lower(${fileSystem.path}) asc`;
  switch (order) {
    case 'ref':
      return [sql`${fileSystem.shortcut} asc nulls first`, byName, asc(fileSystem.id)];
    case 'folders-first':
      return [sql`(${fileSystem.type} = 'folder') desc`, byName, asc(fileSystem.id)];
    case 'name':
      return [byName, asc(fileSystem.id)];
    case 'path':
      return [asc(fileSystem.path), asc(fileSystem.id)];
    case '-path':
      return [desc(fileSystem.path), desc(fileSystem.id)];
    case 'created_at':
      return [asc(fileSystem.createdAt), asc(fileSystem.id)];
    case '-created_at':
      return [desc(fileSystem.createdAt), desc(fileSystem.id)];
  }
}

/** The folder rows a repair looks up as parents. */
const parents = alias(fileSystem, 'parents');

export function createFileSystemRepository(db: Db) {
  const withCreator = { ...getTableColumns(fileSystem), createdBy: userBasicColumns };
  const scopePlaceholders = scopeCondition({ teamId: sql.placeholder('teamId'), projectId: sql.placeholder('projectId') });

  const membersByIdQuery = db
    .select(userBasicColumns)
    .from(users)
    .where(
      and(
        sql`${users.id} = any(${sql.placeholder('ids')}::int[])`,
        sql`exists (select 1 from organization_memberships m where m.user_id = ${users.id} and m.organization_id = ${sql.placeholder('organizationId')})`,
      ),
    )
    .orderBy(asc(users.id))
    .prepare('file_system_members_by_id');

  // The folder listings the web app sends on every navigation (parent + depth, type filters) are prepared, per shape.
  // A listed entry as its response JSON, built by Postgres: nothing to parse, map and print again per row.
  const entryJson = jsonObject([
    ['id', jsonValue(fileSystem.id)],
    ['path', jsonValue(fileSystem.path)],
    ['depth', jsonValue(fileSystem.depth)],
    ['type', jsonValue(fileSystem.type)],
    ['ref', jsonValue(fileSystem.ref)],
    ['href', jsonValue(fileSystem.href)],
    ['meta', jsonbValue(fileSystem.meta)],
    ['shortcut', jsonValue(fileSystem.shortcut)],
    ['created_at', jsonTimestamp(fileSystem.createdAt)],
    ['created_by', userBasicJson],
    ['last_viewed_at', sql`'null'`],
    ['user_access_level', sql`'null'`],
  ]);

  /** The page in one row: its entries' JSON, the users their meta names, and the total (also past the last page). */
  function pageQuery(where: SQL | undefined, order: TreeOrder, limit: number | Placeholder, offset: number | Placeholder) {
    const ordering = orderBy(order);
    const listed = db
      .select({
        entry: sql<string>`${entryJson}`.as('entry'),
        namedUser: sql<unknown>`${fileSystem.meta} -> 'created_by'`.as('named_user'),
        position: sql<number>`row_number() over (order by ${sql.join(ordering, sql`, `)})`.as('position'),
      })
      .from(fileSystem)
      .leftJoin(users, eq(users.id, fileSystem.createdById))
      .where(where)
      .orderBy(...ordering)
      .limit(limit)
      .offset(offset)
      .as('listed');
    return db
      .select({
        results: jsonArray(listed.entry, listed.position).mapWith(printJson),
        namedUsers: sql<unknown[]>`coalesce(json_agg(${listed.namedUser}), '[]')`,
        count: sql<number>`(${db.select({ n: count() }).from(fileSystem).where(where)})`.mapWith(Number),
      })
      .from(listed);
  }
  const pageStatements = preparedByShape<Statement<ListedPage>>('file_system_page');

  return {
    async page(scope: TreeScope, filters: TreeFilters, order: TreeOrder, page: PageParams): Promise<ListedPage> {
      if (filters.search !== undefined || filters.refs !== undefined) {
        const [found] = await pageQuery(and(scopeCondition(scope), ...filterConditions(filters)), order, page.limit, page.offset);
        return found!;
      }
      const bound = BOUND_FILTERS.flatMap((filter) => {
        const value = filter.value(filters);
        return value === undefined ? [] : [{ filter, value }];
      });
      const statement = pageStatements(`${bound.map((b) => b.filter.key).join(',')} by ${order}`, (name) => {
        const where = and(scopePlaceholders, ...bound.map(({ filter }) => filter.condition(sql.placeholder(filter.key))));
        return pageQuery(where, order, sql.placeholder('limit'), sql.placeholder('offset')).prepare(name);
      });
      const values = { teamId: scope.teamId, projectId: scope.projectId, ...Object.fromEntries(bound.map((b) => [b.filter.key, b.value])) };
      const [found] = await statement.execute({ ...values, limit: page.limit, offset: page.offset });
      return found!;
    },

    async find(scope: TreeScope, id: string, tx: Db = db): Promise<FileSystemRowWithCreator | undefined> {
      const [row] = await tx
        .select(withCreator)
        .from(fileSystem)
        .leftJoin(users, eq(users.id, fileSystem.createdById))
        .where(and(scopeCondition(scope), eq(fileSystem.id, id)));
      return row as FileSystemRowWithCreator | undefined;
    },

    async findMany(ids: string[], tx: Db = db): Promise<FileSystemRowWithCreator[]> {
      if (ids.length === 0) return [];
      const rows = await tx.select(withCreator).from(fileSystem).leftJoin(users, eq(users.id, fileSystem.createdById)).where(inArray(fileSystem.id, ids));
      return rows as FileSystemRowWithCreator[];
    },

    /** The folder and everything under it, shallowest first, as delete and move walk them. */
    async subtree(scope: TreeScope, path: string, tx: Db = db): Promise<FileSystemRow[]> {
      return tx
        .select()
        .from(fileSystem)
        .where(and(scopeCondition(scope), under(path)))
        .orderBy(asc(fileSystem.depth), asc(fileSystem.path), asc(fileSystem.id));
    },

    async countUnder(scope: TreeScope, path: string, tx: Db = db): Promise<number> {
      const [row] = await tx.select({ n: count() }).from(fileSystem).where(and(scopeCondition(scope), under(path)));
      return row?.n ?? 0;
    },

    async entriesUnder(scope: TreeScope, path: string, limit: number, tx: Db = db): Promise<FileSystemRowWithCreator[]> {
      const rows = await tx
        .select(withCreator)
        .from(fileSystem)
        .leftJoin(users, eq(users.id, fileSystem.createdById))
        .where(and(scopeCondition(scope), under(path)))
        .orderBy(asc(fileSystem.depth), asc(fileSystem.path), asc(fileSystem.id))
        .limit(limit);
      return rows as FileSystemRowWithCreator[];
    },

    async folderPathsAmong(scope: TreeScope, paths: string[], tx: Db = db): Promise<Set<string>> {
      if (paths.length === 0) return new Set();
      const rows = await tx
        .select({ path: fileSystem.path })
        .from(fileSystem)
        .where(and(scopeCondition(scope), eq(fileSystem.type, 'folder'), inArray(fileSystem.path, paths)));
      return new Set(rows.map((r) => r.path));
    },

    /** A folder row at exactly this path, other than excludeId. */
    async findFolderAt(scope: TreeScope, path: string, excludeId: string | null, tx: Db = db): Promise<FileSystemRow | undefined> {
      const [row] = await tx
        .select()
        .from(fileSystem)
        .where(
          and(
            scopeCondition(scope),
            eq(fileSystem.type, 'folder'),
            eq(fileSystem.path, path),
            excludeId === null ? undefined : ne(fileSystem.id, excludeId),
          ),
        )
        .orderBy(asc(fileSystem.createdAt), asc(fileSystem.id))
        .limit(1);
      return row;
    },

    async insert(values: Omit<NewFileSystemRow, 'id'>[], tx: Db = db): Promise<FileSystemRow[]> {
      if (values.length === 0) return [];
      return tx
        .insert(fileSystem)
        .values(values.map((v) => ({ ...v, id: newUuid() })))
        .returning();
    },

    async update(id: string, patch: Partial<NewFileSystemRow>, tx: Db = db): Promise<void> {
      // An empty PATCH changes nothing (and SQL has no UPDATE without a SET).
      if (Object.keys(patch).length === 0) return;
      await tx.update(fileSystem).set(patch).where(eq(fileSystem.id, id));
    },

    async delete(ids: string[], tx: Db = db): Promise<void> {
      if (ids.length > 0) await tx.delete(fileSystem).where(inArray(fileSystem.id, ids));
    },

    /** Every canonical (non-shortcut) row of one object in one team. */
    async objectRows(teamId: number, type: string, ref: string, tx: Db = db): Promise<FileSystemRow[]> {
      return tx
        .select()
        .from(fileSystem)
        .where(and(eq(fileSystem.teamId, teamId), eq(fileSystem.type, type), eq(fileSystem.ref, ref), or(isNull(fileSystem.shortcut), eq(fileSystem.shortcut, false))));
    },

    /** Every row of one object in one team, link copies included. */
    async deleteObjectRows(teamId: number, type: string, ref: string, tx: Db = db): Promise<void> {
      await tx.delete(fileSystem).where(and(eq(fileSystem.teamId, teamId), eq(fileSystem.type, type), eq(fileSystem.ref, ref)));
    },

    /** Which of these refs of the team's objects of a type have a canonical (non-shortcut) row. */
    async filedRefs(scope: TreeScope, type: string, refs: string[], tx: Db = db): Promise<Set<string>> {
      if (refs.length === 0) return new Set();
      const rows = await tx
        .selectDistinct({ ref: fileSystem.ref })
        .from(fileSystem)
        .where(
          and(
            eq(fileSystem.projectId, scope.projectId),
            eq(fileSystem.type, type),
            inArray(fileSystem.ref, refs),
            eq(fileSystem.teamId, scope.teamId),
            or(isNull(fileSystem.shortcut), eq(fileSystem.shortcut, false)),
          ),
        );
      return new Set(rows.map((r) => r.ref).filter((r): r is string => r !== null));
    },

    /**
     * The project's tree may need a repair (see projects.fileSystemRepairDue). Written even when already due, so
     * that it waits for a repair in progress to commit rather than being overwritten by it.
     */
    async markRepairDue(projectId: number, tx: Db = db): Promise<void> {
      await tx.update(projects).set({ fileSystemRepairDue: true }).where(eq(projects.id, projectId));
    },

    /**
     * Whether the project's tree is due a repair, clearing the mark. The project row stays locked until the caller's
     * transaction ends, so a concurrent claim waits and then finds nothing due, and a mark made meanwhile is kept.
     */
    async claimRepair(projectId: number, tx: Db): Promise<boolean> {
      const claimed = await tx
        .update(projects)
        .set({ fileSystemRepairDue: false })
        .where(and(eq(projects.id, projectId), eq(projects.fileSystemRepairDue, true)))
        .returning({ id: projects.id });
      return claimed.length > 0;
    },

    /**
     * Rows the tree repair may have to fix, found in SQL so that a large tree never travels to Node: a depth that is
     * not the path's segment count, or no folder row at the parent path. Plain string functions, not regular
     * expressions (those cost seconds on 100,000 rows): with every escape pair ("\\" and "\/", read left to right as
     * splitPath reads them) blanked out, the path's remaining "/" are exactly its separators. Paths outside joinPath's
     * normal form (empty segments) show up every time; the caller checks each row with paths.ts before changing it.
     */
    async needingRepair(scope: TreeScope, tx: Db = db): Promise<Pick<FileSystemRow, 'id' | 'path' | 'depth'>[]> {
      const separators = sql`replace(replace(${fileSystem.path}, ${'\\\\'}, '__'), ${'\\/'}, '__')`;
      const depth = sql`length(${separators}) - length(replace(${separators}, '/', '')) + 1`;
      const parentPath = sql`left(${fileSystem.path}, length(${separators}) - strpos(reverse(${separators}), '/'))`;
      const folderPaths = tx
        .select({ path: parents.path })
        .from(parents)
        .where(and(eq(parents.projectId, scope.projectId), eq(parents.surface, SURFACE), eq(parents.type, 'folder')));
      return tx
        .select({ id: fileSystem.id, path: fileSystem.path, depth: fileSystem.depth })
        .from(fileSystem)
        .where(
          and(
            scopeCondition(scope),
            or(sql`${fileSystem.depth} <> ${depth}`, and(sql`strpos(${separators}, '/') > 0`, sql`${parentPath} not in ${folderPaths}`)),
          ),
        );
    },

    /** The users among ids who are members of the organization, by id (prepared: every list of entries asks). */
    async usersByIds(ids: number[], organizationId: string): Promise<UserBasicRow[]> {
      if (ids.length === 0) return [];
      return membersByIdQuery.execute({ ids, organizationId });
    },

    async logView(values: { teamId: number; userId: number; type: string; ref: string; viewedAt: string | null }, tx: Db = db): Promise<void> {
      await tx
        .insert(fileSystemViewLogs)
        .values({ id: newUuid(), teamId: values.teamId, userId: values.userId, type: values.type, ref: values.ref, viewedAt: values.viewedAt ?? sql`now()` })
        .onConflictDoUpdate({
          target: [fileSystemViewLogs.teamId, fileSystemViewLogs.userId, fileSystemViewLogs.type, fileSystemViewLogs.ref],
          set: { viewedAt: values.viewedAt ?? sql`now()` },
        });
    },

    async views(teamId: number, userId: number, filter: { type?: string; limit?: number; oldestFirst?: boolean }, tx: Db = db): Promise<ViewLogRow[]> {
      const query = tx
        .select()
        .from(fileSystemViewLogs)
        .where(
          and(
            eq(fileSystemViewLogs.teamId, teamId),
            eq(fileSystemViewLogs.userId, userId),
            eq(fileSystemViewLogs.surface, SURFACE),
            filter.type === undefined ? undefined : eq(fileSystemViewLogs.type, filter.type),
          ),
        )
        .orderBy(filter.oldestFirst ? asc(fileSystemViewLogs.viewedAt) : desc(fileSystemViewLogs.viewedAt));
      return filter.limit === undefined ? query : query.limit(filter.limit);
    },

    /** Canonical rows in scope for the given (type, ref) pairs, for Recents. */
    async rowsForObjects(
      scope: TreeScope,
      objects: { type: string; ref: string }[],
      filters: Pick<TreeFilters, 'notType' | 'search'>,
      tx: Db = db,
    ): Promise<FileSystemRowWithCreator[]> {
      if (objects.length === 0) return [];
      const pairs = or(...objects.map((o) => and(eq(fileSystem.type, o.type), eq(fileSystem.ref, o.ref))));
      const rows = await tx
        .select(withCreator)
        .from(fileSystem)
        .leftJoin(users, eq(users.id, fileSystem.createdById))
        .where(and(scopeCondition(scope), or(isNull(fileSystem.shortcut), eq(fileSystem.shortcut, false)), pairs, ...filterConditions(filters)));
      return rows as FileSystemRowWithCreator[];
    },

    /** A deleted object's views go once its last canonical row is gone (PostHog's post_delete receiver). */
    async deleteOrphanViews(teamId: number, type: string, ref: string, tx: Db = db): Promise<void> {
      await tx.execute(sql`
        delete from ${fileSystemViewLogs}
        where team_id = ${teamId} and type = ${type} and ref = ${ref}
          and not exists (select 1 from ${fileSystem} f where f.team_id = ${teamId} and f.type = ${type} and f.ref = ${ref}
                          and coalesce(f.shortcut, false) = false)`);
    },

    async homeFolder(teamId: number, userId: number, tx: Db = db) {
      const [row] = await tx
        .select({ record: fileSystemHomeFolders, folder: fileSystem })
        .from(fileSystemHomeFolders)
        .leftJoin(fileSystem, eq(fileSystem.id, fileSystemHomeFolders.folderId))
        .where(and(eq(fileSystemHomeFolders.teamId, teamId), eq(fileSystemHomeFolders.userId, userId)));
      return row;
    },

    /** Records the home folder once; false when another request recorded one first. */
    async recordHomeFolder(teamId: number, userId: number, folderId: string, tx: Db = db): Promise<boolean> {
      const rows = await tx
        .insert(fileSystemHomeFolders)
        .values({ id: newUuid(), teamId, userId, folderId })
        .onConflictDoNothing()
        .returning({ id: fileSystemHomeFolders.id });
      return rows.length > 0;
    },

    async isSomeonesHome(folderId: string, tx: Db = db): Promise<boolean> {
      const [row] = await tx.select({ id: fileSystemHomeFolders.id }).from(fileSystemHomeFolders).where(eq(fileSystemHomeFolders.folderId, folderId));
      return row !== undefined;
    },
  };
}

export type FileSystemRepository = ReturnType<typeof createFileSystemRepository>;
