import { z } from 'zod';
import { query } from '../../http/query.js';
import { DateTime } from '../../lib/wire.js';
import { UserBasicSchema } from '../identity/index.js';
import { pathProblem } from './paths.js';

const MAX_META_BYTES = 1024 * 1024;

/** PostHog's FileSystemSerializer, in its field order (created_by as in its newest version). */
export const FileSystemSchema = z
  .object({
    id: z.uuid(),
    path: z.string(),
    depth: z.number().int().nullable(),
    type: z.string(),
    ref: z.string().nullable(),
    href: z.string().nullable(),
    meta: z.unknown(),
    shortcut: z.boolean().nullable(),
    created_at: DateTime,
    created_by: UserBasicSchema.nullable(),
    last_viewed_at: DateTime.nullable(),
    user_access_level: z.string().nullable().meta({ description: 'Always null: Burrow has no per-object access control' }),
  })
  .meta({ id: 'FileSystem' });

export const FileSystemListSchema = z
  .object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(FileSystemSchema),
    users: z.array(UserBasicSchema).meta({ description: 'The users named in results[].meta.created_by' }),
  })
  .meta({ id: 'PaginatedFileSystemList' });

const path = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = pathProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const meta = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) ctx.addIssue({ code: 'custom', message: 'Meta must be an object.' });
    else if (Buffer.byteLength(JSON.stringify(value)) >= MAX_META_BYTES) ctx.addIssue({ code: 'custom', message: 'Meta must be smaller than 1 MB.' });
  })
  .meta({ description: 'Any JSON object' });

const fields = {
  path,
  type: z.string().max(100).optional(),
  ref: z.string().max(100).nullable().optional(),
  href: z.string().nullable().optional(),
  meta: meta.optional(),
  shortcut: z.boolean().nullable().optional(),
};

export const CreateFileSystemBody = z.object(fields);
export const UpdateFileSystemBody = z.object(fields).partial();

export const FileSystemListQuery = z.object({
  depth: query.optionalInteger(),
  path: z.string().optional(),
  parent: z.string().optional().meta({ description: 'Every entry under this path; with depth, its direct children' }),
  type: z.string().optional(),
  not_type: z.string().optional(),
  type__startswith: z.string().optional(),
  created_at__gt: query.datetime(),
  created_at__lt: query.datetime(),
  search: z.string().optional().meta({ description: 'PostHog’s search language: quoted phrases, -negation, path:, name:, user:, type:, ref:' }),
  search_name_only: query.flag(),
  ref: z.string().optional(),
  refs: query.list({ description: 'Entries of any of these refs: repeated, a JSON array or comma-separated; ordered as ref' }),
  order_by: z.string().optional().meta({ description: 'path, -path, created_at, -created_at, or ±last_viewed_at for Recents' }),
  limit: query.pageLimit(),
  offset: query.pageOffset(),
});

export const FileSystemParams = z.object({ id: z.string() });
export const NewPathBody = z.object({ new_path: z.string().optional() });
export const CountSchema = z
  .object({ count: z.number().int(), entries: z.array(FileSystemSchema), has_more: z.boolean() })
  .meta({ id: 'FileSystemCount' });
export const DetailMessageSchema = z.object({ detail: z.string() }).meta({ id: 'DetailMessage' });

export const DeleteQuery = z.object({
  recursive: query.flagDefaultOn({ description: 'false refuses to delete a folder that is not empty (409)' }),
});
export const DeletedSchema = z
  .object({
    deleted: z.array(
      z.object({
        type: z.string(),
        ref: z.string(),
        mode: z.enum(['soft', 'hard']),
        undo: z.string(),
        path: z.string(),
        can_undo: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'FileSystemDeleted' });

export const UndoDeleteBody = z.object({
  items: z.array(z.object({ type: z.string(), ref: z.string(), path: path.optional() })),
});
export const UndoneSchema = z.object({ undone: z.array(z.object({ type: z.string(), ref: z.string() })) });

export const LogViewBody = z.object({
  type: z.string().min(1).max(150),
  ref: z.string().min(1).max(200),
  viewed_at: z.iso.datetime({ offset: true }).optional(),
});
export const LogViewQuery = z.object({ type: z.string().optional(), limit: query.positiveInteger() });
export const LogViewSchema = z.object({ type: z.string(), ref: z.string(), viewed_at: DateTime });

export const UnfiledQuery = z.object({ type: z.string().optional() });
export const HomeFolderSchema = z.object({ id: z.uuid().nullable(), path: z.string().nullable() });

export type FileSystemEntry = z.infer<typeof FileSystemSchema>;
export type CreateFileSystemInput = z.infer<typeof CreateFileSystemBody>;
export type UpdateFileSystemInput = z.infer<typeof UpdateFileSystemBody>;
export type FileSystemListInput = z.infer<typeof FileSystemListQuery>;
export type DeletedEntry = z.infer<typeof DeletedSchema>['deleted'][number];
