import { z } from 'zod';
import { missingObject } from '../../http/missing-object.js';
import { query } from '../../http/query.js';
import { DateTime } from '../../lib/wire.js';

/** PostHog's ExportedAsset.ExportFormat: value -> the enum name (lowercased, the filename extension). */
export const EXPORT_FORMATS = {
  'image/png': 'png',
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'video/webm': 'webm',
  'video/mp4': 'mp4',
  'image/gif': 'gif',
  'application/json': 'json',
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;
export const EXPORT_FORMAT_VALUES = Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]];
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** A Burrow extension: PostHog accepts the format and never produces it (a heatmap's or a recording frame's image, or a table of rows). */
export const PDF = 'application/pdf';
export const VIDEO_FORMATS: readonly string[] = ['video/mp4', 'video/webm', 'image/gif'];
/**
 * The tabular formats. image/png is produced for a heatmap (heatmap_url) or a recording's frame (session_recording_id),
 * the videos for a recording, application/pdf for a heatmap, a recording's frame or rows.
 */
export const TABULAR_FORMATS: readonly string[] = ['text/csv', XLSX, 'application/json'];
/** export_context.source kinds the tabular producers read. */
export const SUPPORTED_SOURCE_KINDS = ['EventsQuery', 'RecordingsQuery'] as const;

export const isExportFormat = (value: string): value is ExportFormat => Object.hasOwn(EXPORT_FORMATS, value);

/** PostHog's ExportedAssetSerializer, in its field order. */
export const ExportedAssetSchema = z
  .object({
    id: z.number().int(),
    dashboard: z.number().int().nullable(),
    insight: z.number().int().nullable(),
    export_format: z.enum(EXPORT_FORMAT_VALUES),
    created_at: DateTime,
    has_content: z.boolean(),
    export_context: z.unknown().nullable(),
    filename: z.string(),
    expires_after: DateTime.nullable(),
    exception: z.string().nullable(),
    user_access_level: z.string().nullable().meta({ description: '"manager" for the creator, who is the only one who sees an export' }),
  })
  .meta({ id: 'ExportedAsset' });

export const ExportedAssetListSchema = z
  .object({ count: z.number().int(), next: z.string().nullable(), previous: z.string().nullable(), results: z.array(ExportedAssetSchema) })
  .meta({ id: 'PaginatedExportedAssetList' });

const missingObjectField = missingObject('A dashboard or insight id; Burrow has none, so any id is refused (does_not_exist)');

/** The writable fields, in the serializer's order (DRF reports the first failing field in that order). */
export const CreateExportBody = z.object({
  dashboard: missingObjectField,
  insight: missingObjectField,
  export_format: z.enum(EXPORT_FORMAT_VALUES),
  export_context: z.unknown().optional().meta({
    description:
      'For CSV, XLSX and JSON: {path} (an API path Burrow calls as you, following next links) or {source} (an EventsQuery or RecordingsQuery), with optional columns and filename. ' +
      'For image/png: {heatmap_url}: the saved heatmap of that page, or else the page rendered now (through the SSRF guard) at width, with a viewport height tall; ' +
      'with optional heatmap_data_url, width, height, type, date_from, date_to and filename; ' +
      'or {session_recording_id, timestamp} (a frame of the recording, in seconds from its start), with optional width (1400), height (600), css_selector (.replayer-wrapper) and filename. ' +
      'For video/mp4, video/webm and image/gif: {session_recording_id}, with optional timestamp or start_offset_s (seconds, >= 0), duration (1-3600 s, default 5) or end_offset_s, ' +
      'playback_speed (1-360), width (400-3840) and height (300-2160) scaled so neither side exceeds 1400, css_selector, show_metadata_footer (a bar under the replay with the URL and the second of the recording) and filename; inactive periods are skipped and, once the video is made, ' +
      'written back as inactivity_periods [{ts_from_s, ts_to_s, active, recording_ts_from_s}]. ' +
      'For application/pdf (a Burrow extension): {heatmap_url, …} or {session_recording_id, timestamp, …} as for image/png, as a one-page PDF; or {path} or {source} as for CSV, as a paginated table (at most 10,000 rows)',
  }),
  expires_after: z.unknown().optional().meta({ description: 'Read-only: ignored, computed per format' }),
});

export const ExportListQuery = z.object({
  limit: query.pageLimit({ description: 'Number of results to return per page.' }),
  offset: query.pageOffset({ description: 'The initial index from which to return the results.' }),
  export_format: z.string().optional().meta({ description: 'Only this format (ignored unless a supported format)' }),
  context_path: z.string().optional().meta({ description: 'export_context.path contains this, case-insensitively' }),
  session_recording_id: z.string().optional(),
});

export const ExportIdParams = z.object({ id: z.string().meta({ description: 'The export id' }) });
export const ContentQuery = z.object({ download: z.string().optional().meta({ description: '"true" adds Content-Disposition: attachment' }) });
export const ExporterParams = z.object({ filename: z.string() });
export const ExporterQuery = z.object({ token: z.string().optional() });

export type ExportedAsset = z.infer<typeof ExportedAssetSchema>;
export type CreateExportInput = z.infer<typeof CreateExportBody>;
export type ExportListInput = z.infer<typeof ExportListQuery>;
