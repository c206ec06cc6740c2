import type { Db } from '../../db/client.js';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { JsonText } from '../../lib/json-text.js';
import { isoZ } from '../../lib/time.js';
import type { PageParams } from '../../lib/wire.js';
import { type Actor, type TeamAccess, toUserBasic, type UserBasic } from '../identity/index.js';
import type { ShortcutsModule } from '../shortcuts/index.js';
import type {
  CreateFileSystemInput,
  DeletedEntry,
  FileSystemEntry,
  FileSystemListInput,
  UpdateFileSystemInput,
} from './contract.js';
import { TreeRequestError } from './errors.js';
import type { TreeObject, TreeObjectType } from './object-types.js';
import { ancestorPaths, escapePath, joinPath, lastSegment, pathDepth, pathProblem, splitPath } from './paths.js';
import {
  type FileSystemRepository,
  type FileSystemRow,
  type FileSystemRowWithCreator,
  type TreeFilters,
  type TreeOrder,
  type TreeScope,
  type TreeSearch,
} from './repository.js';

/** PostHog's DELETE_PREVIEW_ENTRY_LIMIT: count/ lists this many entries. */
const COUNT_ENTRY_LIMIT = 200;
const RECENTS_SEARCH_WINDOW = 200;
const HOME_ROOT = 'Users';
const HOME_PATH_LIMIT = 90;
const CANNOT_RESTORE = "Couldn't restore this. It may already be restored, or you may not have access to it.";
const RECENTS_DEFAULT_LIMIT = 100;
const RECENTS_MAX_LIMIT = 1000;

/** A list of entries with the users they name; `page` is set when the list is a DRF page (Recents is not). */
export interface FileSystemList {
  page: PageParams | null;
  count: number;
  results: JsonText<FileSystemEntry[]>;
  users: UserBasic[];
}
export type DeleteResult = { deleted: DeletedEntry[] } | null;

export interface FileSystemServiceDeps {
  db: Pick<Db, 'transaction'>;
  files: FileSystemRepository;
  /** Users' starred shortcuts, which follow objects and star home folders. */
  shortcuts: ShortcutsModule['forTree'];
  /** The kinds of objects this server owns; read at each call, so areas can add theirs after the tree is built. */
  objectTypes: readonly TreeObjectType[];
}

/** The home folder's name, trimmed so that its path stays within PostHog's 90 characters. */
function fitHomeName(base: string, suffix = ''): string {
  let name = base;
  while (name.length > 1 && joinPath([HOME_ROOT, name + suffix]).length > HOME_PATH_LIMIT) name = name.slice(0, -1);
  return name + suffix;
}

const scopeOf = (access: TeamAccess): TreeScope => ({ teamId: access.team.id, projectId: access.team.projectId });
const isFolder = (row: Pick<FileSystemRow, 'type'>) => row.type === 'folder';
const isShortcut = (row: Pick<FileSystemRow, 'shortcut'>) => row.shortcut === true;

function toEntry(row: FileSystemRowWithCreator, lastViewedAt: string | null = null): FileSystemEntry {
  return {
    id: row.id,
    path: row.path,
    depth: row.depth,
    type: row.type,
    ref: row.ref,
    href: row.href,
    meta: row.meta ?? null,
    shortcut: row.shortcut,
    created_at: isoZ(row.createdAt),
    created_by: row.createdBy && toUserBasic(row.createdBy),
    last_viewed_at: lastViewedAt && isoZ(lastViewedAt),
    user_access_level: null,
  };
}

/**
 * The project tree, as PostHog's FileSystemViewSet (its newest behaviour plus the additions of its next version):
 * escape-aware paths, parents created on demand, folder moves and merges, shortcut copies, deletes that reach the
 * objects this server owns, undo, Recents from the view log, and home folders.
 */
export function createFileSystemService({ db, files, shortcuts, objectTypes }: FileSystemServiceDeps) {
  const typeNamed = (type: string) => objectTypes.find((t) => t.type === type);

  /** Creates every missing ancestor folder of the paths (checked across the whole project tree). */
  async function ensureAncestors(scope: TreeScope, paths: readonly string[], createdById: number | null, tx: Db): Promise<void> {
    const ancestors = [...new Set(paths.flatMap(ancestorPaths))];
    const existing = await files.folderPathsAmong(scope, ancestors, tx);
    await files.insert(
      ancestors
        .filter((folder) => !existing.has(folder))
        .map((folder) => ({
          teamId: scope.teamId,
          projectId: scope.projectId,
          path: folder,
          depth: pathDepth(folder),
          type: 'folder',
          shortcut: false,
          createdById,
        })),
      tx,
    );
  }

  async function find(access: TeamAccess, id: string, tx?: Db): Promise<FileSystemRowWithCreator> {
    const row = isUuid(id) ? await files.find(scopeOf(access), id, tx) : undefined;
    if (!row) throw new NotFoundError();
    return row;
  }

  async function reload(id: string, tx?: Db): Promise<FileSystemEntry> {
    const [row] = await files.findMany([id], tx);
    if (!row) throw new NotFoundError();
    return toEntry(row);
  }

  /** The users list: the members named by the entries' meta.created_by. */
  async function usersOf(access: TeamAccess, namedUsers: unknown[]): Promise<UserBasic[]> {
    const ids = new Set<number>();
    for (const named of namedUsers) {
      if (typeof named === 'number' && Number.isInteger(named)) ids.add(named);
    }
    return (await files.usersByIds([...ids], access.organization.id)).map(toUserBasic);
  }

  function searchOf(actor: Actor, query: Pick<FileSystemListInput, 'search' | 'search_name_only'>): TreeSearch | undefined {
    return query.search ? { query: query.search, currentUserId: actor.user.id, nameOnly: query.search_name_only } : undefined;
  }

  function filtersOf(actor: Actor, query: FileSystemListInput): TreeFilters {
    return {
      depth: query.depth,
      path: query.path,
      parent: query.parent,
      type: query.type,
      notType: query.not_type,
      typePrefix: query.type__startswith,
      createdAfter: query.created_at__gt,
      createdBefore: query.created_at__lt,
      search: searchOf(actor, query),
      ref: query.ref,
      refs: query.refs,
    };
  }

  function orderOf(query: FileSystemListInput): TreeOrder {
    if (query.ref !== undefined || query.refs !== undefined) return 'ref';
    switch (query.order_by) {
      case undefined:
        return query.depth !== undefined ? 'folders-first' : 'name';
      case 'path':
      case '-path':
      case 'created_at':
        return query.order_by;
      default:
        return '-created_at';
    }
  }

  /** Recents: the caller's view log first, joined to the tree; not paginated, as PostHog's view-log-first path. */
  async function recents(access: TeamAccess, actor: Actor, query: FileSystemListInput): Promise<FileSystemList> {
    const limit = Math.min(query.limit ?? RECENTS_DEFAULT_LIMIT, RECENTS_MAX_LIMIT);
    const search = searchOf(actor, query);
    const views = await files.views(access.team.id, actor.user.id, {
      limit: search ? Math.max(limit, RECENTS_SEARCH_WINDOW) : limit,
      oldestFirst: query.order_by === 'last_viewed_at',
    });
    const rows = await files.rowsForObjects(scopeOf(access), views, { notType: query.not_type, search });
    const byObject = new Map<string, FileSystemRowWithCreator[]>();
    for (const row of rows) byObject.set(`${row.type}\u0000${row.ref}`, [...(byObject.get(`${row.type}\u0000${row.ref}`) ?? []), row]);
    const results = views
      .flatMap((view) => (byObject.get(`${view.type}\u0000${view.ref}`) ?? []).map((row) => ({ row, viewedAt: view.viewedAt })))
      .slice(0, limit);
    return {
      page: null,
      count: results.length,
      // Built here with FileSystemSchema's fields in order, so JSON.stringify prints what the serializer would.
      results: new JsonText(JSON.stringify(results.map(({ row, viewedAt }) => toEntry(row, viewedAt)))),
      users: await usersOf(access, results.map(({ row }) => (row.meta as { created_by?: unknown } | null)?.created_by)),
    };
  }

  /** Refuses a path the tree cannot hold, naming the input it came from: every write of a path passes here. */
  function writable(path: string, attr: string): string {
    const problem = pathProblem(path);
    if (problem) throw new ValidationError(problem, attr);
    return path;
  }

  /** The paths a folder's subtree gets when it moves (or is linked) from one path to another, each checked. */
  async function movedSubtree(scope: TreeScope, from: string, to: string, tx?: Db): Promise<{ row: FileSystemRow; path: string }[]> {
    const rows = await files.subtree(scope, from, tx);
    return rows.map((row) => ({ row, path: writable(to + row.path.slice(from.length), 'new_path') }));
  }

  /** A new canonical row for an object at a path (its parents created); attr names the input the path came from. */
  async function insertObjectRow(scope: TreeScope, type: string, object: TreeObject, path: string, tx: Db, attr = 'name'): Promise<void> {
    writable(path, attr);
    await ensureAncestors(scope, [path], object.createdById, tx);
    await files.insert(
      [
        {
          teamId: scope.teamId,
          projectId: scope.projectId,
          path,
          depth: pathDepth(path),
          type,
          ref: object.ref,
          href: object.href,
          shortcut: false,
          meta: { created_at: object.createdAt, created_by: object.createdById },
          createdAt: object.createdAt,
          createdById: object.createdById,
        },
      ],
      tx,
    );
  }

  const defaultPath = (objectType: Pick<TreeObjectType, 'baseFolder'>, object: TreeObject, folder?: string) =>
    `${folder ?? objectType.baseFolder}/${escapePath(object.name)}`;

  async function countUnder(access: TeamAccess, path: string | undefined) {
    if (!path) throw new TreeRequestError('path parameter is required');
    const scope = scopeOf(access);
    const [total, entries] = await Promise.all([files.countUnder(scope, path), files.entriesUnder(scope, path, COUNT_ENTRY_LIMIT)]);
    return { count: total, entries: entries.map((row) => toEntry(row)), has_more: total > entries.length };
  }

  /** Deletes one row the way PostHog's destroy does, reaching the object behind its last canonical row. */
  async function deleteRow(row: FileSystemRow, reached: DeletedEntry[], tx: Db): Promise<void> {
    await files.delete([row.id], tx);
    if (isFolder(row) || isShortcut(row)) return;
    const objectType = typeNamed(row.type);
    if (objectType && row.ref !== null && (await files.objectRows(row.teamId, row.type, row.ref, tx)).length === 0) {
      const outcome = await objectType.softDelete(tx, row.teamId, row.ref);
      if (!reached.some((d) => d.type === row.type && d.ref === row.ref)) {
        reached.push({
          type: row.type,
          ref: row.ref,
          mode: outcome === 'deleted' ? 'soft' : 'hard',
          undo: objectType.undoHint(row.ref),
          path: row.path,
          can_undo: outcome === 'deleted',
        });
      }
    }
    if (row.ref !== null) await files.deleteOrphanViews(row.teamId, row.type, row.ref, tx);
  }

  return {
    async list(access: TeamAccess, actor: Actor, query: FileSystemListInput, page: PageParams): Promise<FileSystemList> {
      if (query.order_by === '-last_viewed_at' || query.order_by === 'last_viewed_at') return recents(access, actor, query);
      const { results, namedUsers, count } = await files.page(scopeOf(access), filtersOf(actor, query), orderOf(query), page);
      return { page, count, results: new JsonText(results), users: await usersOf(access, namedUsers) };
    },

    async retrieve(access: TeamAccess, id: string): Promise<FileSystemEntry> {
      return toEntry(await find(access, id));
    },

    async create(access: TeamAccess, actor: Actor, input: CreateFileSystemInput): Promise<FileSystemEntry> {
      const scope = scopeOf(access);
      const id = await db.transaction(async (tx) => {
        await ensureAncestors(scope, [input.path], actor.user.id, tx);
        const [row] = await files.insert(
          [
            {
              teamId: scope.teamId,
              projectId: scope.projectId,
              path: input.path,
              depth: pathDepth(input.path),
              type: input.type ?? '',
              ref: input.ref ?? null,
              href: input.href ?? null,
              meta: input.meta ?? {},
              shortcut: input.shortcut ?? false,
              createdById: actor.user.id,
            },
          ],
          tx,
        );
        return row!.id;
      });
      return reload(id);
    },

    /** PUT and PATCH change the row only: no children move, no parents appear, the object keeps its name. */
    async update(access: TeamAccess, id: string, input: UpdateFileSystemInput): Promise<FileSystemEntry> {
      const row = await find(access, id);
      await db.transaction(async (tx) => {
        await files.update(
          row.id,
          {
            ...(input.path !== undefined && { path: input.path, depth: pathDepth(input.path) }),
            ...(input.type !== undefined && { type: input.type }),
            ...(input.ref !== undefined && { ref: input.ref }),
            ...(input.href !== undefined && { href: input.href }),
            ...(input.meta !== undefined && { meta: input.meta }),
            ...(input.shortcut !== undefined && { shortcut: input.shortcut }),
          },
          tx,
        );
        // The new path's parents may not exist: unfiled/ creates them next time, as in PostHog.
        if (input.path !== undefined && input.path !== row.path) await files.markRepairDue(row.projectId, tx);
      });
      return reload(row.id);
    },

    /**
     * Deletes a row, and a folder with everything under it, in one transaction: shortcuts and folders go alone,
     * the last canonical row of an object this server owns soft-deletes the object (200 with what was reached,
     * for undo), rows of other types are removed without touching anything else (204 when nothing was reached).
     */
    async delete(access: TeamAccess, actor: Actor, id: string, recursive: boolean): Promise<DeleteResult> {
      const scope = scopeOf(access);
      return db.transaction(async (tx) => {
        const target = await find(access, id, tx);
        const descendants = isFolder(target) ? await files.subtree(scope, target.path, tx) : [];
        if (!recursive && descendants.length > 0) throw new ConflictError('Folder is not empty.', 'directory_not_empty');
        const rows = [target, ...descendants];
        const unreferenced = rows.find((row) => !isFolder(row) && !isShortcut(row) && row.ref === null && typeNamed(row.type) !== undefined);
        if (unreferenced) throw new ValidationError(`Cannot delete type '${unreferenced.type}' without a reference.`);
        const reached: DeletedEntry[] = [];
        // Children first, so a folder's own row goes last.
        for (const row of [...rows].reverse()) await deleteRow(row, reached, tx);
        if (isFolder(target)) {
          const left = await files.subtree(scope, target.path, tx);
          await ensureAncestors(scope, left.map((r) => r.path), actor.user.id, tx);
        }
        return reached.length > 0 ? { deleted: reached } : null;
      });
    },

    async count(access: TeamAccess, id: string): Promise<{ count: number; entries: FileSystemEntry[]; has_more: boolean }> {
      const row = await find(access, id);
      if (!isFolder(row)) throw new TreeRequestError('Count can only be called on folders');
      return countUnder(access, row.path);
    },

    countByPath: countUnder,

    /**
     * Files the team's objects that have no tree row yet (all owned types, or one), then, when a write has marked
     * the tree due (a PATCH of a path), repairs it: wrong depths are fixed and missing parent folders created.
     * PostHog scans the whole tree on every call; the web app sends one per tree load. Answers how many objects
     * were filed.
     */
    async unfiled(access: TeamAccess, actor: Actor, type: string | undefined): Promise<{ count: number }> {
      const scope = scopeOf(access);
      const types = type ? objectTypes.filter((t) => t.type === type) : objectTypes;
      return db.transaction(async (tx) => {
        let filed = 0;
        for (const objectType of types) {
          const live = await objectType.live(scope.teamId, tx);
          const existing = await files.filedRefs(scope, objectType.type, live.map((object) => object.ref), tx);
          for (const object of live) {
            if (existing.has(object.ref)) continue;
            const filedObject = { ...object, createdById: object.createdById ?? actor.user.id };
            await insertObjectRow(scope, objectType.type, filedObject, defaultPath(objectType, filedObject), tx);
            filed += 1;
          }
        }
        if (!(await files.claimRepair(scope.projectId, tx))) return { count: filed };
        const rows = await files.needingRepair(scope, tx);
        for (const row of rows) {
          const depth = pathDepth(row.path);
          if (row.depth !== depth) await files.update(row.id, { depth }, tx);
        }
        await ensureAncestors(scope, rows.map((r) => r.path), actor.user.id, tx);
        return { count: filed };
      });
    },

    /** Moves a row; a folder takes everything under it along, merging into a folder already at the target. */
    async move(access: TeamAccess, actor: Actor, id: string, newPath: string | undefined): Promise<FileSystemEntry> {
      if (!newPath) throw new TreeRequestError('new_path is required');
      writable(newPath, 'new_path');
      const scope = scopeOf(access);
      const row = await find(access, id);
      if (isFolder(row) && newPath !== row.path) await movedSubtree(scope, row.path, newPath);
      // PostHog creates the target's parents before anything can refuse the move.
      await db.transaction((tx) => ensureAncestors(scope, [newPath], actor.user.id, tx));
      if (!isFolder(row)) {
        await files.update(row.id, { path: newPath, depth: pathDepth(newPath) });
        return reload(row.id);
      }
      if (newPath === row.path) throw new TreeRequestError('Cannot move folder into itself');
      const resultId = await db.transaction(async (tx) => {
        for (const { row: child, path } of await movedSubtree(scope, row.path, newPath, tx)) {
          await files.update(child.id, { path, depth: pathDepth(path) }, tx);
        }
        await shortcuts.repointFolders(scope.projectId, row.path, newPath, escapePath(lastSegment(newPath)), tx);
        const existing = await files.findFolderAt(scope, newPath, row.id, tx);
        if (existing) {
          await files.delete([row.id], tx);
          return existing.id;
        }
        await files.update(row.id, { path: newPath, depth: pathDepth(newPath) }, tx);
        return row.id;
      });
      return reload(resultId);
    },

    /** Shortcut copies at a new path; for a folder, of everything under it too. */
    async link(access: TeamAccess, actor: Actor, id: string, newPath: string | undefined): Promise<FileSystemEntry> {
      if (!newPath) throw new TreeRequestError('new_path is required');
      writable(newPath, 'new_path');
      const scope = scopeOf(access);
      const row = await find(access, id);
      if (isFolder(row) && newPath !== row.path) await movedSubtree(scope, row.path, newPath);
      await db.transaction((tx) => ensureAncestors(scope, [newPath], actor.user.id, tx));
      if (isFolder(row) && newPath === row.path) throw new TreeRequestError('Cannot link folder into itself');
      const copy = (source: FileSystemRow, path: string) => ({
        teamId: scope.teamId,
        projectId: scope.projectId,
        path,
        depth: pathDepth(path),
        type: source.type,
        ref: source.ref,
        href: source.href,
        meta: source.meta,
        shortcut: true,
        createdAt: source.createdAt,
        createdById: source.createdById,
      });
      const resultId = await db.transaction(async (tx) => {
        if (!isFolder(row)) return (await files.insert([copy(row, newPath)], tx))[0]!.id;
        const children = await movedSubtree(scope, row.path, newPath, tx);
        await files.insert(children.map(({ row: child, path }) => copy(child, path)), tx);
        if (await files.findFolderAt(scope, newPath, row.id, tx)) return row.id;
        return (await files.insert([copy(row, newPath)], tx))[0]!.id;
      });
      return reload(resultId);
    },

    /** Records a view for browser sessions; key callers get the same 204 with nothing recorded, as in PostHog. */
    async logView(access: TeamAccess, actor: Actor, input: { type: string; ref: string; viewed_at?: string }): Promise<void> {
      if (!actor.session) return;
      await files.logView({ teamId: access.team.id, userId: actor.user.id, type: input.type, ref: input.ref, viewedAt: input.viewed_at ?? null });
    },

    async views(access: TeamAccess, actor: Actor, query: { type?: string | undefined; limit?: number | undefined }) {
      const rows = await files.views(access.team.id, actor.user.id, { type: query.type || undefined, limit: query.limit });
      return rows.map((row) => ({ type: row.type, ref: row.ref, viewed_at: isoZ(row.viewedAt) }));
    },

    /** Restores deleted objects, and puts their rows back at the given paths; all or nothing. */
    async undoDelete(access: TeamAccess, actor: Actor, items: { type: string; ref: string; path?: string }[]) {
      const scope = scopeOf(access);
      const sorted = [...items].sort((a, b) => (a.type === b.type ? a.ref.localeCompare(b.ref) : a.type.localeCompare(b.type)));
      return db.transaction(async (tx) => {
        for (const item of sorted) {
          const objectType = typeNamed(item.type);
          const restored = objectType ? await objectType.restore(tx, scope.teamId, item.ref) : null;
          if (!objectType || !restored) throw new ValidationError(CANNOT_RESTORE);
          if (item.path === undefined) continue;
          await ensureAncestors(scope, [item.path], actor.user.id, tx);
          const rows = await files.objectRows(scope.teamId, item.type, item.ref, tx);
          for (const row of rows) await files.update(row.id, { path: item.path, depth: pathDepth(item.path) }, tx);
          if (rows.length === 0) await insertObjectRow(scope, item.type, restored, item.path, tx);
        }
        return { undone: sorted.map(({ type, ref }) => ({ type, ref })) };
      });
    },

    /**
     * The caller's home folder: created once under Users/ (named after them, trimmed, with " (n)" on a clash),
     * or an existing folder of theirs adopted, and starred; later calls answer the same folder, even once deleted.
     */
    async homeFolder(access: TeamAccess, actor: Actor): Promise<{ id: string | null; path: string | null }> {
      const scope = scopeOf(access);
      return db.transaction(async (tx) => {
        const known = await files.homeFolder(scope.teamId, actor.user.id, tx);
        if (known) return { id: known.folder?.id ?? null, path: known.folder?.path ?? null };
        const base = actor.user.firstName.trim() || 'My home';
        let name = fitHomeName(base);
        for (let n = 2; ; n += 1) {
          const existing = await files.findFolderAt(scope, joinPath([HOME_ROOT, name]), null, tx);
          if (!existing) break;
          if (existing.createdById === actor.user.id && !(await files.isSomeonesHome(existing.id, tx))) {
            await files.recordHomeFolder(scope.teamId, actor.user.id, existing.id, tx);
            return { id: existing.id, path: existing.path };
          }
          name = fitHomeName(base, ` (${n})`);
        }
        const path = joinPath([HOME_ROOT, name]);
        await ensureAncestors(scope, [path], actor.user.id, tx);
        const [folder] = await files.insert(
          [{ teamId: scope.teamId, projectId: scope.projectId, path, depth: 2, type: 'folder', shortcut: false, createdById: actor.user.id }],
          tx,
        );
        await files.recordHomeFolder(scope.teamId, actor.user.id, folder!.id, tx);
        await shortcuts.insert({ teamId: scope.teamId, userId: actor.user.id, path: escapePath(name), type: 'folder', ref: path, order: -1 }, tx);
        return { id: folder!.id, path };
      });
    },

    /**
     * Keeps an object's tree rows in step with it, in the caller's transaction (PostHog's FileSystemSyncMixin):
     * a deleted object loses its rows; a renamed one renames them; one without a row gets one, in `folder` when
     * given (`_create_in_folder`) or its type's base folder.
     */
    async syncObject(tx: Db, scope: TreeScope, objectType: Pick<TreeObjectType, 'type' | 'baseFolder'>, object: TreeObject & { deleted: boolean }, folder?: string) {
      if (object.deleted) {
        await files.deleteObjectRows(scope.teamId, objectType.type, object.ref, tx);
        await shortcuts.deleteForObject(scope.teamId, objectType.type, object.ref, tx);
        await files.deleteOrphanViews(scope.teamId, objectType.type, object.ref, tx);
        return;
      }
      const rows = await files.objectRows(scope.teamId, objectType.type, object.ref, tx);
      if (rows.length === 0) {
        await insertObjectRow(scope, objectType.type, object, defaultPath(objectType, object, folder), tx, folder === undefined ? 'name' : '_create_in_folder');
        return;
      }
      for (const row of rows) {
        const path = writable(joinPath([...splitPath(row.path).slice(0, -1), object.name]), 'name');
        await files.update(row.id, { path, depth: pathDepth(path), href: object.href }, tx);
      }
      await shortcuts.renameForObject(scope.teamId, objectType.type, object.ref, { path: escapePath(object.name), href: object.href }, tx);
    },
  };
}

export type FileSystemService = ReturnType<typeof createFileSystemService>;
