import { NotFoundError } from '../../lib/errors.js';
import { uuidLookup } from '../../lib/ids.js';
import type { Page, PageParams } from '../../lib/wire.js';
import { isoZ } from '../../lib/time.js';
import {
  type FileSystemShortcut,
  type FileSystemShortcutInput,
  type PatchFileSystemShortcutInput,
  SHORTCUT_ORDERINGS,
  type ShortcutOrdering,
} from './contract.js';
import type { Actor, TeamAccess } from '../identity/index.js';
import type { FileSystemShortcutRow, FileSystemShortcutsRepository, ShortcutOwner } from './repository.js';

export interface FileSystemShortcutsServiceDeps {
  shortcuts: FileSystemShortcutsRepository;
}

export function toFileSystemShortcut(row: FileSystemShortcutRow): FileSystemShortcut {
  return {
    id: row.id,
    path: row.path,
    type: row.type,
    ref: row.ref,
    href: row.href,
    order: row.order,
    created_at: isoZ(row.createdAt),
  };
}

/** PostHog reads `ordering` by hand: only these two values change the order; anything else is the default. */
const orderingOf = (value: string | undefined): ShortcutOrdering =>
  (SHORTCUT_ORDERINGS as readonly string[]).includes(value ?? '') ? (value as ShortcutOrdering) : 'default';

/** A user's starred items (PostHog's FileSystemShortcutViewSet): private to the user, shared across the project's teams. */
export function createFileSystemShortcutsService({ shortcuts }: FileSystemShortcutsServiceDeps) {
  const ownerOf = (team: TeamAccess, actor: Actor): ShortcutOwner => ({
    teamId: team.team.id,
    projectId: team.team.projectId,
    userId: actor.user.id,
  });

  return {
    async list(
      team: TeamAccess,
      actor: Actor,
      ordering: string | undefined,
      page: PageParams,
    ): Promise<Pick<Page<FileSystemShortcut>, 'count' | 'results'>> {
      const { rows, count } = await shortcuts.list(ownerOf(team, actor), orderingOf(ordering), page);
      return { count, results: rows.map(toFileSystemShortcut) };
    },

    /** Starring the same item twice answers the existing shortcut (still 201), as PostHog does. */
    async create(team: TeamAccess, actor: Actor, input: FileSystemShortcutInput): Promise<FileSystemShortcut> {
      const row = await shortcuts.star(
        ownerOf(team, actor),
        { path: input.path, type: input.type ?? '', ref: input.ref ?? null, href: input.href ?? null },
        input.order,
      );
      return toFileSystemShortcut(row);
    },

    async retrieve(team: TeamAccess, actor: Actor, id: string): Promise<FileSystemShortcut> {
      const row = await shortcuts.find(ownerOf(team, actor), uuidLookup(id));
      if (!row) throw new NotFoundError();
      return toFileSystemShortcut(row);
    },

    /** PUT and PATCH: only the given fields change. */
    async update(team: TeamAccess, actor: Actor, id: string, input: PatchFileSystemShortcutInput): Promise<FileSystemShortcut> {
      const patch = {
        ...(input.path !== undefined && { path: input.path }),
        ...(input.type !== undefined && { type: input.type }),
        ...(input.ref !== undefined && { ref: input.ref }),
        ...(input.href !== undefined && { href: input.href }),
        ...(input.order !== undefined && { order: input.order }),
      };
      const row = await shortcuts.update(ownerOf(team, actor), uuidLookup(id), patch);
      if (!row) throw new NotFoundError();
      return toFileSystemShortcut(row);
    },

    async destroy(team: TeamAccess, actor: Actor, id: string): Promise<void> {
      if (!(await shortcuts.delete(ownerOf(team, actor), uuidLookup(id)))) throw new NotFoundError();
    },
  };
}

export type FileSystemShortcutsService = ReturnType<typeof createFileSystemShortcutsService>;
