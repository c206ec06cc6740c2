import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { uuidLookup } from '../../lib/ids.js';
import type { Page, PageParams } from '../../lib/wire.js';
import { isoZ } from '../../lib/time.js';
import {
  DEFAULT_PATH,
  DEFAULT_PROTOCOL,
  type PatchPersistedFolderInput,
  type PersistedFolder,
  type PersistedFolderInput,
} from './contract.js';
import type { Actor, TeamAccess } from '../identity/index.js';
import type { FolderOwner, PersistedFolderRow, PersistedFoldersRepository } from './repository.js';

/** The product surface these routes serve (PostHog's DEFAULT_SURFACE; its desktop viewset is not served). */
const SURFACE = 'web';

/**
 * PostHog answers a PATCH onto a type the user already has with a 500 (the unique constraint); Burrow answers a
 * validation error on `type` with DRF's uniqueness code instead.
 */
export const FOLDER_TYPE_TAKEN = 'A persisted folder of this type already exists.';

export interface PersistedFoldersServiceDeps {
  persistedFolders: PersistedFoldersRepository;
}

function toPersistedFolder(row: PersistedFolderRow): PersistedFolder {
  return {
    id: row.id,
    type: row.type,
    protocol: row.protocol,
    path: row.path,
    created_at: isoZ(row.createdAt),
    updated_at: isoZ(row.updatedAt),
  };
}

/** A user's sidebar folders (PostHog's PersistedFolderViewSet): private to the user, one per type. */
export function createPersistedFoldersService({ persistedFolders }: PersistedFoldersServiceDeps) {
  const ownerOf = (team: TeamAccess, actor: Actor): FolderOwner => ({ teamId: team.team.id, userId: actor.user.id, surface: SURFACE });

  return {
    async list(team: TeamAccess, actor: Actor, page: PageParams): Promise<Pick<Page<PersistedFolder>, 'count' | 'results'>> {
      const { rows, count } = await persistedFolders.list(ownerOf(team, actor), page);
      return { count, results: rows.map(toPersistedFolder) };
    },

    /** An upsert: a second create of the same type replaces protocol and path (omitted ones become the defaults). */
    async create(team: TeamAccess, actor: Actor, input: PersistedFolderInput): Promise<PersistedFolder> {
      const row = await persistedFolders.upsert(ownerOf(team, actor), {
        type: input.type,
        protocol: input.protocol ?? DEFAULT_PROTOCOL,
        path: input.path ?? DEFAULT_PATH,
      });
      return toPersistedFolder(row);
    },

    async retrieve(team: TeamAccess, actor: Actor, id: string): Promise<PersistedFolder> {
      const row = await persistedFolders.find(ownerOf(team, actor), uuidLookup(id));
      if (!row) throw new NotFoundError();
      return toPersistedFolder(row);
    },

    /** PUT and PATCH: only the given fields change (DRF's update applies no defaults). */
    async update(team: TeamAccess, actor: Actor, id: string, input: PatchPersistedFolderInput): Promise<PersistedFolder> {
      const patch = {
        ...(input.type !== undefined && { type: input.type }),
        ...(input.protocol !== undefined && { protocol: input.protocol }),
        ...(input.path !== undefined && { path: input.path }),
      };
      const result = await persistedFolders.update(ownerOf(team, actor), uuidLookup(id), patch);
      if (result === 'conflict') throw new ValidationError(FOLDER_TYPE_TAKEN, 'type', 'unique');
      if (!result) throw new NotFoundError();
      return toPersistedFolder(result);
    },

    async destroy(team: TeamAccess, actor: Actor, id: string): Promise<void> {
      if (!(await persistedFolders.delete(ownerOf(team, actor), uuidLookup(id)))) throw new NotFoundError();
    },
  };
}

export type PersistedFoldersService = ReturnType<typeof createPersistedFoldersService>;
