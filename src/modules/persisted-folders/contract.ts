import { z } from 'zod';
import { PERSISTED_FOLDER_TYPES } from '../../db/enums.js';
import { DateTime, pageSchema } from '../../lib/wire.js';

export const DEFAULT_PROTOCOL = 'products://';
export const DEFAULT_PATH = '';

/** PostHog's PersistedFolderSerializer, in its field order. */
export const PersistedFolderSchema = z
  .object({
    id: z.uuid(),
    type: z.enum(PERSISTED_FOLDER_TYPES),
    protocol: z.string(),
    path: z.string(),
    created_at: DateTime,
    updated_at: DateTime,
  })
  .meta({ id: 'PersistedFolder' });

export const PersistedFolderListSchema = pageSchema(PersistedFolderSchema).meta({ id: 'PaginatedPersistedFolderList' });

const type = z
  .enum(PERSISTED_FOLDER_TYPES)
  .meta({ description: 'Which persisted folder this is for the user (home, pinned, custom_products).' });
// A model CharField without blank=True: optional (it has a default) but never blank or null.
const protocol = z.string().min(1).max(64).meta({ description: "Protocol prefix of the folder location, e.g. 'products://'." });
const path = z.string().meta({ description: 'Path within the protocol that the folder resolves to.' });

/**
 * Create (an upsert on the user's folder of this type) and PUT: `type` is required; unknown and read-only fields are
 * ignored. On create an omitted protocol or path becomes its default; on PUT it is left as it is (DRF's update).
 */
export const PersistedFolderBody = z.object({ type, protocol: protocol.optional(), path: path.optional() });
export const PatchPersistedFolderBody = PersistedFolderBody.partial();

export const PersistedFolderParams = z.object({ id: z.string().meta({ description: 'A UUID string identifying this Persisted Folder.' }) });

export type PersistedFolder = z.infer<typeof PersistedFolderSchema>;
export type PersistedFolderInput = z.infer<typeof PersistedFolderBody>;
export type PatchPersistedFolderInput = z.infer<typeof PatchPersistedFolderBody>;
