import { z } from 'zod';
import { DateTime } from '../../lib/wire.js';

export const DEFAULT_LIMIT = 50;
export const DEFAULT_DATE_FROM = '-3d';
/** Blocks one snapshots request may span (end - start): PostHog allows 20 to personal API keys and 100 otherwise. */
export const MAX_BLOCKS_PER_REQUEST = { personalApiKey: 20, other: 100 } as const;
export const BULK_DELETE_LIMIT = 100;
/** PostHog's replay throttles for personal API keys by plan tier (LISTING_RATE_* and SNAPSHOT_RATE_*, §14). */
export const API_TIER_RATES = {
  free: { burstPerMinute: 12, sustainedPerHour: 60 },
  paid: { burstPerMinute: 60, sustainedPerHour: 300 },
  enterprise: { burstPerMinute: 100, sustainedPerHour: 400 },
} as const;
export type ApiTier = keyof typeof API_TIER_RATES;
export const BULK_VIEWED_LIMIT = 20;
export const BATCH_CHECK_LIMIT = 100;

export const RECORDING_ORDERS = [
  'duration',
  'recording_duration',
  'inactive_seconds',
  'active_seconds',
  'start_time',
  'console_error_count',
  'click_count',
  'keypress_count',
  'mouse_activity_count',
  'activity_score',
  'recording_ttl',
  'surfacing_score',
] as const;
export type RecordingOrder = (typeof RECORDING_ORDERS)[number];

/** PostHog's MinimalPersonSerializer; a distinct id without a person gets PostHog's MissingPerson. */
export const MinimalPersonSchema = z
  .object({
    id: z.number().int().nullable(),
    name: z.string().nullable(),
    distinct_ids: z.array(z.string()),
    properties: z.record(z.string(), z.unknown()),
    created_at: DateTime.nullable(),
    uuid: z.uuid(),
    last_seen_at: DateTime.nullable(),
  })
  .meta({ id: 'MinimalPerson' });

/** PostHog's SessionRecordingSerializer, in its field order (session_recordings.md §3.1). */
export const RecordingSchema = z
  .object({
    id: z.string(),
    distinct_id: z.string().nullable(),
    viewed: z.boolean(),
    viewers: z.array(z.string()),
    recording_duration: z.number().int(),
    active_seconds: z.number().int().nullable(),
    inactive_seconds: z.number().int().nullable(),
    start_time: DateTime.nullable(),
    end_time: DateTime.nullable(),
    click_count: z.number().int().nullable(),
    keypress_count: z.number().int().nullable(),
    mouse_activity_count: z.number().int().nullable(),
    console_log_count: z.number().int().nullable(),
    console_warn_count: z.number().int().nullable(),
    console_error_count: z.number().int().nullable(),
    start_url: z.string().nullable(),
    person: MinimalPersonSchema,
    retention_period_days: z.number().int().nullable(),
    expiry_time: DateTime.nullable(),
    recording_ttl: z.number().int().nullable().meta({ description: 'Whole days left before the recording expires' }),
    snapshot_source: z.string().nullable(),
    snapshot_library: z.string().nullable(),
    ongoing: z.boolean(),
    activity_score: z.number().nullable().meta({ description: 'Only in lists; null when retrieved' }),
    has_summary: z.boolean(),
    summary_outcome: z.record(z.string(), z.unknown()).nullable(),
    external_references: z.array(z.record(z.string(), z.unknown())),
    matches_filters: z.boolean().meta({ description: 'False only for a recording pinned with session_recording_id that the filters do not match' }),
    player_url: z.string().meta({ description: "Burrow's extension: the recording's player for a signed-in user (/project/<id>/replay/<session_id>)" }),
  })
  .meta({ id: 'SessionRecording' });
export type Recording = z.infer<typeof RecordingSchema>;

/** What a share link's token reads of its recording (SessionRecordingSharedSerializer). */
export const SharedRecordingSchema = z
  .object({ id: z.string(), recording_duration: z.number().int(), start_time: DateTime.nullable(), end_time: DateTime.nullable() })
  .meta({ id: 'SharedSessionRecording' });
export type SharedRecording = z.infer<typeof SharedRecordingSchema>;
export type MinimalPerson = z.infer<typeof MinimalPersonSchema>;

export const RecordingListSchema = z
  .object({
    results: z.array(RecordingSchema),
    has_next: z.boolean(),
    version: z.literal(4),
    next_cursor: z.string().optional(),
  })
  .meta({ id: 'RecordingsQueryResponse', description: "Not DRF pagination: PostHog's recordings query answer (has_next, next_cursor)." });

const jsonParam = (description: string) => z.string().optional().meta({ description });

/**
 * The list's query string as the OpenAPI document shows it. Each value is JSON-decoded before it is checked against
 * PostHog's RecordingsQuery (list-query.ts), where an unknown parameter is a 400.
 */
export const RecordingListQuery = z.looseObject({
  date_from: jsonParam('Relative (-3d, -24h, -1w, -1m, -1y) or ISO; default -3d'),
  date_to: jsonParam('Relative or ISO'),
  session_ids: jsonParam('JSON list of session ids; results keep this order; an empty list matches nothing'),
  distinct_ids: jsonParam('JSON list of distinct ids (takes precedence over person_uuid)'),
  person_uuid: jsonParam("The recordings of all this person's distinct ids"),
  session_recording_id: jsonParam('A recording put first whether it matches or not (matches_filters tells)'),
  hide_viewed_recordings: jsonParam('"current-user" or "any-user"'),
  filter_test_accounts: jsonParam("true applies the project's test_account_filters"),
  properties: jsonParam('JSON list of event, person and session property filters'),
  events: jsonParam('JSON list of event filters ({id, type: "events", properties?}): sessions containing a matching event'),
  console_log_filters: jsonParam('JSON list of {type: "log_entry", key: "level" | "message", operator, value}'),
  having_predicates: jsonParam('JSON list of {type: "recording", key: duration | active_seconds | inactive_seconds | snapshot_source | visited_page, operator, value}'),
  operand: jsonParam('"AND" (default) or "OR": how the filter groups combine'),
  order: jsonParam(`One of ${RECORDING_ORDERS.join(', ')}; default start_time`),
  order_direction: jsonParam('"DESC" (default) or "ASC"'),
  limit: jsonParam(`Default ${DEFAULT_LIMIT}`),
  offset: jsonParam('Default 0'),
  after: jsonParam("The next_cursor of the previous page"),
});

export const RecordingParams = z.object({ session_id: z.string().max(200).meta({ description: 'The session id' }) });

export const RecordingUpdateBody = z.looseObject({
  viewed: z.boolean().optional(),
  analyzed: z.boolean().optional(),
  player_metadata: z.unknown().optional(),
});

export const SuccessSchema = z.object({ success: z.literal(true) });

const sessionIdList = z.unknown().optional();
export const BulkBody = z.looseObject({ session_recording_ids: sessionIdList, date_from: z.string().nullable().optional() });
export const BulkDeleteResponse = z.object({
  success: z.boolean(),
  deleted_count: z.number().int(),
  total_requested: z.number().int(),
  failed_ids: z.array(z.string()),
});
export const BulkViewedResponse = z.object({ success: z.literal(true), viewed_count: z.number().int(), total_requested: z.number().int() });
export const BulkNotViewedResponse = z.object({ success: z.literal(true), not_viewed_count: z.number().int(), total_requested: z.number().int() });
export const BatchCheckBody = z.looseObject({ session_ids: z.unknown().optional(), include_outcomes: z.boolean().optional() });
export const BatchCheckResponse = z.object({ results: z.record(z.string(), z.boolean()) });
export const MatchingEventsQuery = z.looseObject({
  session_ids: z.string().optional().meta({ description: 'JSON list holding exactly one session id' }),
  events: z.string().optional().meta({ description: 'JSON list of event filters ({id, type: "events"})' }),
  actions: z.string().optional(),
  properties: z.string().optional(),
});
export const MatchingEventsResponse = z.object({ results: z.array(z.object({ uuid: z.string(), timestamp: DateTime })) });
export const CaptureDiagnosticsResponse = z.object({ properties: z.record(z.string(), z.unknown()).nullable() });
export const ViewedResponse = z.object({ viewed: z.boolean(), other_viewers: z.number().int() });

export const SnapshotsQuery = z.looseObject({
  source: z.string().optional().meta({ description: 'Absent: the sources listing; blob_v2: blocks start_blob_key..end_blob_key' }),
  start_blob_key: z.string().optional(),
  end_blob_key: z.string().optional(),
  blob_key: z.string().optional(),
  decompress: z.string().optional().meta({ description: 'Ignored: blocks are always JSONL text' }),
});

export const SnapshotSourcesSchema = z
  .object({
    sources: z.array(
      z.object({
        source: z.literal('blob_v2'),
        start_timestamp: DateTime,
        end_timestamp: DateTime,
        blob_key: z.string(),
      }),
    ),
  })
  .meta({ id: 'SessionRecordingSnapshotSources' });
