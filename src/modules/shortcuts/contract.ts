import { z } from 'zod';
import { PaginationQuery } from '../../http/pagination.js';
import { DateTime, pageSchema } from '../../lib/wire.js';

/** The range of the `order` column, an integer as PostHog's. */
export const MIN_ORDER = -2_147_483_648;
export const MAX_ORDER = 2_147_483_647;

/** PostHog's FileSystemShortcutSerializer, in its field order (without user_access_level: Burrow has no access control). */
export const FileSystemShortcutSchema = z
  .object({
    id: z.uuid(),
    path: z.string().meta({ description: 'Display path of the shortcut in the sidebar.' }),
    type: z.string().meta({ description: "Type of the linked item (e.g. 'folder', 'insight'), or blank." }),
    ref: z.string().nullable().meta({ description: 'Reference to the linked item, scoped to its type. Null for href-only shortcuts.' }),
    href: z.string().nullable().meta({ description: 'Destination URL the shortcut opens. Null when the shortcut points at an item by ref.' }),
    order: z.number().int().meta({ description: "Display order within the user's shortcut list, ascending." }),
    created_at: DateTime,
  })
  .meta({ id: 'FileSystemShortcut' });

export const FileSystemShortcutListSchema = pageSchema(FileSystemShortcutSchema).meta({ id: 'PaginatedFileSystemShortcutList' });

/** Create and PUT: `path` is required; unknown and read-only fields are ignored. */
export const FileSystemShortcutBody = z.object({
  path: z.string().min(1).meta({ description: 'Display path of the shortcut in the sidebar.' }),
  type: z.string().max(100).optional().meta({ description: "Type of the linked item (e.g. 'folder', 'insight'), or blank." }),
  ref: z.string().max(100).nullable().optional().meta({ description: 'Reference to the linked item, scoped to its type. Null for href-only shortcuts.' }),
  href: z.string().nullable().optional().meta({ description: 'Destination URL the shortcut opens. Null when the shortcut points at an item by ref.' }),
  order: z
    .number()
    .int()
    .min(MIN_ORDER)
    .max(MAX_ORDER)
    .optional()
    .meta({ description: "Display order within the user's shortcut list, ascending; a new shortcut goes after the user's last one by default." }),
});
export const PatchFileSystemShortcutBody = FileSystemShortcutBody.partial();

export const SHORTCUT_ORDERINGS = ['created_at', '-created_at'] as const;
export type ShortcutOrdering = (typeof SHORTCUT_ORDERINGS)[number] | 'default';

export const FileSystemShortcutListQuery = PaginationQuery.extend({
  ordering: z
    .string()
    .optional()
    .meta({ description: 'created_at or -created_at; anything else (the default) orders by `order`, then case-insensitively by path' }),
});

export const FileSystemShortcutParams = z.object({
  id: z.string().meta({ description: 'A UUID string identifying this file system shortcut.' }),
});

export type FileSystemShortcut = z.infer<typeof FileSystemShortcutSchema>;
export type FileSystemShortcutInput = z.infer<typeof FileSystemShortcutBody>;
export type PatchFileSystemShortcutInput = z.infer<typeof PatchFileSystemShortcutBody>;
