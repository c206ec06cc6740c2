import { z } from 'zod';
import { actorOf, teamOf } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { teamRoutes } from '../../http/team-routes.js';
import { ValidationError } from '../../lib/errors.js';
import {
  API_TIER_RATES,
  type ApiTier,
  BatchCheckBody,
  BatchCheckResponse,
  BulkBody,
  BulkDeleteResponse,
  BulkNotViewedResponse,
  BulkViewedResponse,
  CaptureDiagnosticsResponse,
  MatchingEventsQuery,
  MatchingEventsResponse,
  RecordingListQuery,
  RecordingListSchema,
  RecordingParams,
  RecordingSchema,
  RecordingUpdateBody,
  SharedRecordingSchema,
  SnapshotSourcesSchema,
  SnapshotsQuery,
  SuccessSchema,
  ViewedResponse,
} from './contract.js';
import { RecordingNotFoundError, type RecordingsService } from './service.js';

const read = { object: 'session_recording', action: 'read' } as const;
const write = { object: 'session_recording', action: 'write' } as const;
/** PostHog's viewset actions outside its read and write lists: browser sessions (and legacy keys) only. */
const unlisted = 'unsupported' as const;

/** /session_recordings/ under both prefixes (session_recordings.md §1–§8). */
export const recordingsRoutes = (recordings: RecordingsService, apiTier: ApiTier) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['session_recordings'];
    const access = (scope: typeof read | typeof write | typeof unlisted, options: { throttle?: string; sharedRecording?: boolean } = {}) => ({
      access: {
        scope,
        target: team,
        ...(options.throttle && { throttle: { name: options.throttle, ...API_TIER_RATES[apiTier] } }),
        ...(options.sharedRecording && { sharedRecording: true }),
      },
    });

    app.get(
      '/session_recordings/',
      {
        config: access(read, { throttle: 'recordings_listing' }),
        schema: {
          operationId: 'session_recordings_list',
          tags,
          summary: 'Recordings matching a RecordingsQuery (each parameter JSON-encoded), newest first by default',
          querystring: RecordingListQuery,
          response: { 200: RecordingListSchema, 400: ErrorSchema },
        },
      },
      async (request) => recordings.list(teamOf(request), actorOf(request), request.query as Record<string, string | string[] | undefined>, request.siteRoot()),
    );

    const bulkActions = [
      { name: 'bulk_delete', summary: 'Delete up to 100 recordings; unknown ids are skipped', scope: write, response: BulkDeleteResponse, run: recordings.bulkDelete },
      { name: 'bulk_viewed', summary: 'Mark up to 20 recordings viewed by the caller', scope: unlisted, response: BulkViewedResponse, run: recordings.bulkViewed },
      { name: 'bulk_not_viewed', summary: "Forget the caller's views of up to 20 recordings", scope: unlisted, response: BulkNotViewedResponse, run: recordings.bulkNotViewed },
    ] as const;
    for (const { name, summary, scope, response, run } of bulkActions) {
      app.post(
        `/session_recordings/${name}/`,
        { config: access(scope), schema: { operationId: `session_recordings_${name}`, tags, summary, body: BulkBody, response: { 200: response, 400: ErrorSchema } } },
        async (request) => run(teamOf(request), actorOf(request), request.body),
      );
    }

    app.post(
      '/session_recordings/batch_check_exists/',
      {
        config: access(unlisted),
        schema: { operationId: 'session_recordings_batch_check_exists', tags, summary: 'Which of up to 100 session ids have a recording', body: BatchCheckBody, response: { 200: BatchCheckResponse, 400: ErrorSchema } },
      },
      async (request) => recordings.batchCheckExists(teamOf(request), request.body),
    );

    app.get(
      '/session_recordings/matching_events/',
      {
        config: access(unlisted),
        schema: {
          operationId: 'session_recordings_matching_events',
          tags,
          summary: "One session's events matching event filters: their uuids and timestamps",
          querystring: MatchingEventsQuery,
          response: { 200: MatchingEventsResponse, 400: ErrorSchema },
        },
      },
      async (request) => recordings.matchingEvents(teamOf(request), request.query as Record<string, string | string[] | undefined>),
    );

    app.get(
      '/session_recordings/:session_id/',
      {
        config: access(read, { sharedRecording: true }),
        schema: {
          operationId: 'session_recordings_retrieve',
          tags,
          summary: 'The recording; with ?sharing_access_token= of its share link, only its id, duration, start and end',
          params: RecordingParams,
          response: { 200: z.union([RecordingSchema, SharedRecordingSchema]), 404: ErrorSchema },
        },
      },
      async (request) => {
        const shared = request.sharedRecording;
        if (shared) return recordings.retrieveShared(shared, request.params.session_id);
        return recordings.retrieve(teamOf(request), actorOf(request), request.params.session_id, request.siteRoot());
      },
    );

    for (const method of ['PATCH', 'PUT'] as const) {
      app.route({
        method,
        url: '/session_recordings/:session_id/',
        config: access(write),
        schema: {
          operationId: method === 'PUT' ? 'session_recordings_update' : 'session_recordings_partial_update',
          tags,
          summary: "Record that the caller viewed it ({viewed: true}); answers {success: true}, not the recording",
          params: RecordingParams,
          body: RecordingUpdateBody,
          response: { 200: SuccessSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
        handler: async (request) => recordings.update(teamOf(request), actorOf(request), request.params.session_id, request.body ?? {}),
      });
    }

    app.delete(
      '/session_recordings/:session_id/',
      { config: access(write), schema: { operationId: 'session_recordings_destroy', tags, summary: 'Delete (at once for every read; the blocks are purged later)', params: RecordingParams, response: { 204: z.null() } } },
      async (request, reply) => {
        await recordings.destroy(teamOf(request), actorOf(request), request.params.session_id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/session_recordings/:session_id/viewed/',
      { config: access(unlisted), schema: { operationId: 'session_recordings_viewed', tags, params: RecordingParams, response: { 200: ViewedResponse } } },
      async (request) => recordings.viewed(teamOf(request), actorOf(request), request.params.session_id),
    );

    app.get(
      '/session_recordings/:session_id/capture_diagnostics/',
      {
        config: access(unlisted),
        schema: {
          operationId: 'session_recordings_capture_diagnostics',
          tags,
          summary: "The properties of the session's latest event (null without one)",
          params: RecordingParams,
          response: { 200: CaptureDiagnosticsResponse },
        },
      },
      async (request) => recordings.captureDiagnostics(teamOf(request), request.params.session_id),
    );

    app.get(
      '/session_recordings/:session_id/snapshots/',
      {
        config: access(read, { throttle: 'recordings_snapshots', sharedRecording: true }),
        schema: {
          operationId: 'session_recordings_snapshots',
          tags,
          summary: 'Without source: the blocks as blob_v2 sources; with source=blob_v2: blocks start..end as application/jsonl of [windowId, event] lines',
          params: RecordingParams,
          querystring: SnapshotsQuery,
          response: { 200: z.union([SnapshotSourcesSchema, z.string().meta({ description: 'application/jsonl' })]), 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const { session_id: sessionId } = request.params;
        const { source } = request.query;
        const owner = request.sharedRecording ?? teamOf(request);
        if (source === undefined || source === 'null') return recordings.snapshotSources(owner, sessionId);
        if (source === 'blob_v2_lts') {
          if (!request.query.blob_key) throw new ValidationError('Must provide a blob key');
          throw new RecordingNotFoundError();
        }
        const body = await recordings.snapshotBlocks(owner, Boolean(request.actor?.key), sessionId, request.query);
        return reply.type('application/jsonl').header('cache-control', 'max-age=3600').header('content-disposition', 'inline').send(body);
      },
    );
  });
