import { gunzipSync } from 'node:zlib';
import { v5 as uuidv5 } from 'uuid';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { epochMs, isoZ } from '../../lib/time.js';
import type { BlobStore } from '../../storage/index.js';
import type { TeamRow } from '../../db/schema/index.js';
import { type Actor, testAccountFilters } from '../identity/index.js';
import {
  BATCH_CHECK_LIMIT,
  BULK_DELETE_LIMIT,
  BULK_VIEWED_LIMIT,
  MAX_BLOCKS_PER_REQUEST,
  type MinimalPerson,
  type Recording,
  type SharedRecording,
} from './contract.js';
import { encodeCursor, parseRecordingsQuery } from './list-query.js';
import type { PersonRow, RecordingRow, RecordingsRepository } from './repository.js';

/** PostHog's MissingPerson uuid namespace. */
const MISSING_PERSON_NAMESPACE = '932979b4-65c3-4424-8467-0b66ec27bc22';
/** PostHog's PERSON_DEFAULT_DISPLAY_NAME_PROPERTIES. */
const DISPLAY_NAME_PROPERTIES = ['email', 'Email', '$email', 'name', 'Name', 'username', 'Username', 'UserName'];
const ANONYMOUS_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const START_URL_MAX = 512;

export class RecordingNotFoundError extends NotFoundError {
  constructor() {
    super('Recording not found');
  }
}

type TeamRef = { team: { id: number; timezone: string } };

function personOf(teamId: number, distinctId: string, row: PersonRow | undefined, listed: boolean): MinimalPerson {
  if (!row) {
    return { id: null, name: null, distinct_ids: [distinctId], properties: {}, created_at: null, uuid: uuidv5(`${teamId}:${distinctId}`, MISSING_PERSON_NAMESPACE), last_seen_at: null };
  }
  const distinctIds = listed ? [distinctId] : row.distinct_ids;
  const displayed = DISPLAY_NAME_PROPERTIES.map((key) => row.properties[key]).find((value) => value !== undefined && value !== null && value !== '');
  const name = displayed !== undefined ? String(displayed) : ([...distinctIds].sort((a, b) => Number(ANONYMOUS_ID.test(a)) - Number(ANONYMOUS_ID.test(b)))[0] ?? String(row.id));
  return { id: row.id, name, distinct_ids: distinctIds, properties: row.properties, created_at: isoZ(row.created_at), uuid: row.uuid, last_seen_at: null };
}

function startUrl(row: RecordingRow): string | null {
  const url = row.first_url ?? row.urls[0]?.split('?')[0] ?? null;
  return url === null ? null : url.slice(0, START_URL_MAX);
}

function toRecording(
  row: RecordingRow,
  person: MinimalPerson,
  viewing: { viewed: boolean; viewers: string[] },
  listed: { activityScore: number | null; matches: boolean },
  playerUrl: string,
): Recording {
  const activeSeconds = Math.trunc(row.active_milliseconds / 1000);
  // The list does not clamp inactive time; retrieve does.
  const inactive = Math.trunc(row.duration - row.active_milliseconds / 1000);
  return {
    id: row.session_id,
    distinct_id: row.distinct_id,
    viewed: viewing.viewed,
    viewers: viewing.viewers,
    recording_duration: row.duration,
    active_seconds: activeSeconds,
    inactive_seconds: listed.activityScore === null ? Math.max(0, inactive) : inactive,
    start_time: isoZ(row.start_time),
    end_time: isoZ(row.end_time),
    click_count: row.click_count,
    keypress_count: row.keypress_count,
    mouse_activity_count: row.mouse_activity_count,
    console_log_count: row.console_log_count,
    console_warn_count: row.console_warn_count,
    console_error_count: row.console_error_count,
    start_url: startUrl(row),
    person,
    retention_period_days: row.retention_period_days,
    expiry_time: isoZ(row.expiry_time),
    recording_ttl: row.recording_ttl,
    snapshot_source: row.snapshot_source,
    snapshot_library: row.snapshot_library,
    ongoing: row.ongoing,
    activity_score: listed.activityScore,
    has_summary: false,
    summary_outcome: null,
    external_references: [],
    matches_filters: listed.matches,
    player_url: playerUrl,
  };
}

/** A list of ids as PostHog's bulk actions take it: a non-empty array of strings, at most `limit`. */
function idList(value: unknown, limit: number, what: { name: string; verb: string }): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError(`${what.name} must be provided as a non-empty array`);
  if (value.length > limit) throw new ValidationError(`Cannot ${what.verb} more than ${limit} ${what.name === 'session_ids' ? 'session IDs' : 'recordings'} at once`);
  if (!value.every((id) => typeof id === 'string')) throw new ValidationError(`${what.name} must contain only strings`);
  return value as string[];
}

export function createRecordingsService({ recordings, blobs }: { recordings: RecordingsRepository; blobs: BlobStore }) {
  /** Persons and viewers for recordings, then each one's wire shape. */
  async function present(
    teamId: number,
    actor: Actor,
    rows: RecordingRow[],
    listed: (row: RecordingRow) => { activityScore: number | null; matches: boolean },
    siteRoot: string,
  ) {
    const distinctIds = [...new Set(rows.map((row) => row.distinct_id))];
    const [persons, viewers] = await Promise.all([recordings.persons(teamId, distinctIds), recordings.viewers(teamId, rows.map((row) => row.session_id))]);
    const personByDistinctId = new Map(persons.map((p) => [p.distinct_id, p]));
    return rows.map((row) => {
      const views = viewers.filter((v) => v.session_id === row.session_id);
      const viewing = { viewed: views.some((v) => v.user_id === actor.user.id), viewers: views.filter((v) => v.user_id !== actor.user.id).map((v) => v.email) };
      const listing = listed(row);
      const person = personOf(teamId, row.distinct_id, personByDistinctId.get(row.distinct_id), listing.activityScore !== null);
      return toRecording(row, person, viewing, listing, `${siteRoot}/project/${teamId}/replay/${encodeURIComponent(row.session_id)}`);
    });
  }

  /** What a share link shows of its recording (PostHog's SessionRecordingSharedSerializer), null when it cannot be read. */
  async function sharedView(access: TeamRef, sessionId: string): Promise<SharedRecording | null> {
    const row = await recordings.find(access.team.id, sessionId);
    return row && { id: row.session_id, recording_duration: row.duration, start_time: isoZ(row.start_time), end_time: isoZ(row.end_time) };
  }

  async function readable(teamId: number, sessionId: string): Promise<RecordingRow> {
    const row = await recordings.find(teamId, sessionId);
    if (!row) throw new RecordingNotFoundError();
    return row;
  }

  return {
    async list(access: { team: TeamRow }, actor: Actor, rawQuery: Record<string, string | string[] | undefined>, siteRoot: string) {
      const teamId = access.team.id;
      const parsed = parseRecordingsQuery(rawQuery, { now: new Date(), timeZone: access.team.timezone });
      // filter_test_accounts: the project's test_account_filters must match too, whatever the query's operand.
      const q = parsed.filterTestAccounts ? { ...parsed, testAccounts: testAccountFilters(access.team) } : parsed;
      const rows = await recordings.list(teamId, actor.user.id, q, access.team.timezone);
      const hasNext = rows.length > q.limit;
      const page = rows.slice(0, q.limit);
      let pinned: RecordingRow | null = null;
      let pinnedMatches = true;
      if (q.pinned) {
        pinned = page.find((row) => row.session_id === q.pinned) ?? (await recordings.find(teamId, q.pinned));
        if (pinned && !page.includes(pinned)) pinnedMatches = await recordings.matches(teamId, actor.user.id, q, q.pinned, access.team.timezone);
      }
      const ordered = pinned ? [pinned, ...page.filter((row) => row !== pinned)] : page;
      const results = await present(teamId, actor, ordered, (row) => ({ activityScore: row.activity_score, matches: row !== pinned || pinnedMatches }), siteRoot);
      const last = page[page.length - 1];
      return {
        results,
        has_next: hasNext,
        version: 4 as const,
        ...(hasNext && last && { next_cursor: encodeCursor({ value: last.order_value, sessionId: last.session_id }) }),
      };
    },

    sharedView,

    /**
     * A subscription's report: the recordings matching a RecordingsQuery (its fields as the list's JSON parameters)
     * that started at or after `since`, newest first, at most `limit` + 1 (so the caller knows there are more).
     */
    async startedSince(team: TeamRow, query: Record<string, unknown>, since: string, limit: number): Promise<RecordingRow[]> {
      const raw = Object.fromEntries(Object.entries(query).map(([key, item]) => [key, typeof item === 'string' ? item : JSON.stringify(item)]));
      const parsed = parseRecordingsQuery({ ...raw, date_from: since, limit: String(limit), offset: '0', order: 'start_time', order_direction: 'DESC' }, { now: new Date(), timeZone: team.timezone });
      const q = parsed.filterTestAccounts ? { ...parsed, testAccounts: testAccountFilters(team) } : parsed;
      const rows = await recordings.list(team.id, null, { ...q, after: null }, team.timezone);
      return rows.filter((row) => epochMs(row.start_time) >= Date.parse(since));
    },

    async retrieveShared(access: TeamRef, sessionId: string): Promise<SharedRecording> {
      const view = await sharedView(access, sessionId);
      if (!view) throw new RecordingNotFoundError();
      return view;
    },

    async retrieve(access: TeamRef, actor: Actor, sessionId: string, siteRoot: string): Promise<Recording> {
      const row = await readable(access.team.id, sessionId);
      const [recording] = await present(access.team.id, actor, [row], () => ({ activityScore: null, matches: true }), siteRoot);
      return recording!;
    },

    /** PATCH and PUT: only `viewed` is recorded; `analyzed` and player_metadata are analytics PostHog keeps to itself. */
    async update(access: TeamRef, actor: Actor, sessionId: string, body: { viewed?: boolean; analyzed?: boolean }): Promise<{ success: true }> {
      await readable(access.team.id, sessionId);
      if (!body.viewed && !body.analyzed) throw new ValidationError("At least one of 'viewed' or 'analyzed' must be provided.");
      if (body.viewed) await recordings.markViewed(access.team.id, actor.user.id, [sessionId], false);
      return { success: true };
    },

    /** Soft delete: the recording is gone from every read at once; unknown ids are not an error (PostHog answers 204). */
    async destroy(access: TeamRef, actor: Actor, sessionId: string): Promise<void> {
      await recordings.softDelete(access.team.id, [sessionId], actor.user.email);
    },

    async bulkDelete(access: TeamRef, actor: Actor, body: { session_recording_ids?: unknown }) {
      const ids = idList(body.session_recording_ids, BULK_DELETE_LIMIT, { name: 'session_recording_ids', verb: 'process' });
      const deleted = await recordings.softDelete(access.team.id, [...new Set(ids)], actor.user.email);
      return { success: true, deleted_count: deleted.length, total_requested: ids.length, failed_ids: [] };
    },

    async bulkViewed(access: TeamRef, actor: Actor, body: { session_recording_ids?: unknown }) {
      const ids = idList(body.session_recording_ids, BULK_VIEWED_LIMIT, { name: 'session_recording_ids', verb: 'process' });
      return { success: true as const, viewed_count: await recordings.markViewed(access.team.id, actor.user.id, ids, true), total_requested: ids.length };
    },

    async bulkNotViewed(access: TeamRef, actor: Actor, body: { session_recording_ids?: unknown }) {
      const ids = idList(body.session_recording_ids, BULK_VIEWED_LIMIT, { name: 'session_recording_ids', verb: 'process' });
      return { success: true as const, not_viewed_count: await recordings.markNotViewed(access.team.id, actor.user.id, ids), total_requested: ids.length };
    },

    async batchCheckExists(access: TeamRef, body: { session_ids?: unknown }) {
      const ids = idList(body.session_ids, BATCH_CHECK_LIMIT, { name: 'session_ids', verb: 'check' });
      const found = await recordings.existing(access.team.id, ids);
      return { results: Object.fromEntries(ids.map((id) => [id, found.has(id)])) };
    },

    /** The events of one session that match event filters (what the player marks on its timeline). */
    async matchingEvents(access: TeamRef, rawQuery: Record<string, string | string[] | undefined>) {
      const { sessionIds, events, properties, matchesNothing } = parseRecordingsQuery({ ...rawQuery, date_from: 'all' }, { now: new Date(), timeZone: access.team.timezone });
      const eventProperties = properties.filter((filter) => filter.type === 'event');
      if (!sessionIds || sessionIds.length !== 1) throw new ValidationError('Must specify exactly one session_id');
      if (events.length === 0 && matchesNothing.actions === 0 && eventProperties.length === 0) {
        throw new ValidationError('Must specify at least one event or action filter, or event properties filter');
      }
      const rows = await recordings.matchingEvents(access.team.id, sessionIds[0]!, { events, properties: eventProperties, actions: matchesNothing.actions }, access.team.timezone);
      return { results: rows.map((row) => ({ uuid: row.uuid, timestamp: isoZ(row.timestamp) })) };
    },

    /** What the SDK last said about the session (its latest event's properties), for debugging a recording. */
    async captureDiagnostics(access: TeamRef, sessionId: string) {
      return { properties: await recordings.latestEventProperties(access.team.id, sessionId) };
    },

    async viewed(access: TeamRef, actor: Actor, sessionId: string) {
      const views = await recordings.viewers(access.team.id, [sessionId]);
      return { viewed: views.some((v) => v.user_id === actor.user.id), other_viewers: views.filter((v) => v.user_id !== actor.user.id).length };
    },

    /** The snapshot sources of §8.2: one blob_v2 source per block, its index as blob_key. */
    async snapshotSources(access: TeamRef, sessionId: string) {
      const blocks = await recordings.blocks(access.team.id, sessionId);
      if (blocks.length === 0) throw new RecordingNotFoundError();
      return {
        sources: blocks.map((block, index) => ({
          source: 'blob_v2' as const,
          start_timestamp: isoZ(block.first_timestamp),
          end_timestamp: isoZ(block.last_timestamp),
          blob_key: String(index),
        })),
      };
    },

    /** Blocks start..end (inclusive) as JSONL of [windowId, event] lines, the events exactly as captured. */
    async snapshotBlocks(
      access: TeamRef,
      viaPersonalApiKey: boolean,
      sessionId: string,
      query: { source?: string; start_blob_key?: string; end_blob_key?: string },
    ): Promise<string> {
      if (query.source !== 'blob_v2') throw new ValidationError('Invalid source must be one of [blob_v2, blob_v2_ts, None]');
      if (query.start_blob_key === undefined || query.end_blob_key === undefined) throw new ValidationError('Must provide both start blob key and end blob key');
      if (!/^\d+$/.test(query.start_blob_key) || !/^\d+$/.test(query.end_blob_key)) throw new ValidationError('Blob keys must be integers');
      const [start, end] = [Number(query.start_blob_key), Number(query.end_blob_key)];
      const limit = viaPersonalApiKey ? MAX_BLOCKS_PER_REQUEST.personalApiKey : MAX_BLOCKS_PER_REQUEST.other;
      if (end - start > limit) throw new ValidationError(`Cannot request more than ${limit} blob keys at once`);
      const blocks = await recordings.blocks(access.team.id, sessionId);
      if (blocks.length === 0) throw new NotFoundError('Session recording not found');
      if (end >= blocks.length) throw new NotFoundError('Block index out of range');
      const contents = await Promise.all(blocks.slice(start, end + 1).map((block) => blobs.get(block.blob_key)));
      return contents
        .filter((content): content is Buffer => content !== null)
        .map((content) => gunzipSync(content).toString('utf8'))
        .join('\n');
    },
  };
}

export type RecordingsService = ReturnType<typeof createRecordingsService>;
