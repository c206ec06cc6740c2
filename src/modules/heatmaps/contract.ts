import { z } from 'zod';
import { HEATMAP_STATUSES, HEATMAP_TYPES } from '../../db/enums.js';
import { query } from '../../http/query.js';
import { isDjangoUrl } from '../../lib/urls.js';
import { DateTime } from '../../lib/wire.js';
import { UserBasicSchema } from '../identity/index.js';

export const DEFAULT_TARGET_WIDTHS = [320, 375, 425, 768, 1024, 1440, 1920];
export const MIN_WIDTH = 100;
export const MAX_WIDTH = 3000;
export const MAX_TARGET_WIDTHS = 16;

/** PostHog's HeatmapScreenshotResponseSerializer, in its field order. */
export const SavedHeatmapSchema = z
  .object({
    id: z.uuid(),
    short_id: z.string(),
    name: z.string().nullable(),
    url: z.string(),
    data_url: z.string().nullable(),
    target_widths: z.array(z.number().int()),
    type: z.enum(HEATMAP_TYPES),
    status: z.enum(HEATMAP_STATUSES),
    has_content: z.boolean(),
    snapshots: z.array(z.object({ width: z.number().int(), has_content: z.boolean() })),
    deleted: z.boolean(),
    block_consent_modals: z.boolean(),
    created_by: UserBasicSchema.nullable(),
    created_at: DateTime,
    updated_at: DateTime,
    exception: z.string().nullable(),
  })
  .meta({ id: 'HeatmapScreenshotResponse' });

export const SavedHeatmapListSchema = z
  .object({ results: z.array(SavedHeatmapSchema), count: z.number().int() })
  .meta({ id: 'SavedHeatmapList', description: 'Not DRF pagination: PostHog answers only results and count here.' });

const url = z
  .string()
  .min(1)
  .max(2000)
  .refine(isDjangoUrl, { message: 'Enter a valid URL.' });

const widths = z
  .array(z.number().int().min(MIN_WIDTH).max(MAX_WIDTH))
  .min(1)
  .max(MAX_TARGET_WIDTHS)
  .meta({ description: `Widths to render, ${MIN_WIDTH} to ${MAX_WIDTH} px, at most ${MAX_TARGET_WIDTHS}` });

/** SavedHeatmapRequestSerializer: unknown fields are ignored; the writable widths field is `widths`. */
export const CreateSavedHeatmapBody = z.object({
  name: z.string().max(400).nullable().optional(),
  url,
  data_url: z.union([url, z.literal('')]).nullable().optional(),
  widths: widths.optional(),
  type: z.enum(HEATMAP_TYPES).optional(),
  deleted: z.boolean().optional().meta({ description: 'Ignored on create' }),
  block_consent_modals: z.boolean().optional(),
  _create_in_folder: z.string().optional().meta({ description: 'The project tree folder to file it in (default Unfiled/Heatmaps)' }),
});

export const UpdateSavedHeatmapBody = CreateSavedHeatmapBody.omit({ _create_in_folder: true }).partial();

export const SavedHeatmapListQuery = z.object({
  type: z.string().optional(),
  status: z.string().optional(),
  search: z.string().optional(),
  created_by: query.integer({ description: 'A user id' }),
  order: z.string().optional().meta({ description: 'A field to order by, with an optional "-"; default -updated_at' }),
  limit: query.integer({ description: 'Default 100, clamped to 1..500' }),
  offset: query.integer(),
});

export const ShortIdParams = z.object({ short_id: z.string() });
export const ScreenshotParams = z.object({ id: z.string().meta({ description: 'The saved heatmap UUID' }) });
export const ContentQuery = z.object({
  width: z.string().optional().meta({ description: 'Defaults to 1024; the closest stored width is served' }),
});

export type SavedHeatmap = z.infer<typeof SavedHeatmapSchema>;
export type CreateSavedHeatmapInput = z.infer<typeof CreateSavedHeatmapBody>;
export type UpdateSavedHeatmapInput = z.infer<typeof UpdateSavedHeatmapBody>;
export type SavedHeatmapListInput = z.infer<typeof SavedHeatmapListQuery>;
