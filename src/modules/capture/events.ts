import { isUuid, newUuid } from '../../lib/ids.js';
import { truncatedText } from '../../lib/postgres-text.js';
import { CaptureError, MISSING_TOKEN, ProjectTokenError } from './errors.js';
import { eventTimestamp } from './timestamps.js';

/**
 * From the JSON of a capture request to the events to store, as PostHog's capture reads it (rust/capture,
 * v0_request.rs, and the ingestion pipeline's timestamp rules): the shapes it accepts, where the project token and
 * the distinct id may be, and the validation messages it answers with.
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A request's events and what the request says about all of them. */
interface RawRequest {
  events: Json[];
  token: unknown;
  sentAt: unknown;
}

/**
 * An array of events (posthog-js batches), {batch, api_key?, sent_at?}, a single event, or an /engage object (a
 * person update: `$set` and friends at the top level, which becomes an `$identify` event as PostHog's capture makes
 * it).
 */
function rawRequest(json: unknown, engage: boolean): RawRequest {
  if (Array.isArray(json)) return { events: json.map(eventObject), token: undefined, sentAt: undefined };
  if (!isObject(json)) throw new CaptureError('failed to parse request: expected an event, a batch or an array of events');
  const token = json.api_key ?? json.token ?? json.$token;
  if (Array.isArray(json.batch)) return { events: json.batch.map(eventObject), token, sentAt: json.sent_at };
  return { events: [engage ? engageEvent(json) : json], token, sentAt: json.sent_at };
}

function eventObject(value: unknown): Json {
  if (!isObject(value)) throw new CaptureError('failed to parse request: every event must be an object');
  return value;
}

const PERSON_OPERATIONS = ['$set', '$set_once', '$unset', '$add', '$append', '$remove', '$union', '$delete'];

function engageEvent(json: Json): Json {
  const properties: Json = isObject(json.properties) ? { ...json.properties } : {};
  for (const operation of PERSON_OPERATIONS) if (json[operation] !== undefined) properties[operation] = json[operation];
  return {
    ...json,
    event: typeof json.event === 'string' && json.event !== '' ? json.event : '$identify',
    distinct_id: json.distinct_id ?? json.$distinct_id,
    properties,
  };
}

const tokenOfEvent = (event: Json): unknown =>
  (isObject(event.properties) ? event.properties.token : undefined) ?? event.api_key ?? event.token ?? event.$token;

/** Why a token cannot be one, in capture's words (rust/capture, token.rs), or null when its shape is right. */
export function projectTokenProblem(token: string): string | null {
  if (token === '') return 'empty';
  if (token.length > 64) return 'too_long';
  if (!/^[\x00-\x7f]*$/.test(token)) return 'not_ascii';
  if (token.startsWith('phx_')) return 'personal_api_key';
  if (token.includes('\0')) return 'null_byte';
  return null;
}

/** The project token of a request: the request's own, else the one its events agree on. Trimmed, as capture does. */
export function projectToken(request: { token: unknown; events: Json[] }): string {
  const candidates = request.token !== undefined && request.token !== null ? [request.token] : request.events.map(tokenOfEvent);
  const distinct = [...new Set(candidates.filter((t) => t !== undefined && t !== null))];
  if (distinct.length === 0) throw new ProjectTokenError(MISSING_TOKEN, 'missing_api_key');
  if (distinct.length > 1) throw new ProjectTokenError('batch submitted with inconsistent api_key values', 'invalid_api_key');
  const [only] = distinct;
  if (typeof only !== 'string') throw new ProjectTokenError('API key is not valid: not_string', 'invalid_api_key');
  const token = only.trim();
  const problem = projectTokenProblem(token);
  if (problem) throw new ProjectTokenError(`API key is not valid: ${problem}`, 'invalid_api_key');
  return token;
}

export interface CapturedEvent {
  uuid: string;
  event: string;
  distinctId: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  properties: Json;
  sessionId: string | null;
  windowId: string | null;
  currentUrl: string | null;
}

const MAX_DISTINCT_ID = 200;
const MAX_EVENT_NAME = 400;
const MAX_ID = 200;

/** A property that must be a short string to be lifted into its own column; anything else stays in properties only. */
const shortString = (value: unknown, max: number): string | null => (typeof value === 'string' && value !== '' ? truncatedText(value, max) : null);

function distinctIdOf(event: Json, properties: Json): string {
  const value = event.distinct_id ?? properties.distinct_id ?? event.$distinct_id;
  if (value === undefined || value === null) throw new CaptureError('event submitted without a distinct_id');
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === '') throw new CaptureError('event submitted with an empty distinct_id');
  // Cut at 200 characters (code points); a text of 200 UTF-16 units or fewer has no more than that.
  return text.length <= MAX_DISTINCT_ID ? text : [...text].slice(0, MAX_DISTINCT_ID).join('');
}

function captured(event: Json, now: Date, sentAt: unknown): CapturedEvent {
  if (typeof event.event !== 'string' || event.event === '') throw new CaptureError('event submitted with an empty event name');
  const properties: Json = isObject(event.properties) ? { ...event.properties } : {};
  for (const operation of ['$set', '$set_once']) if (isObject(event[operation])) properties[operation] ??= event[operation];
  delete properties.token;
  const uuid = typeof event.uuid === 'string' && isUuid(event.uuid) ? event.uuid.toLowerCase() : newUuid();
  return {
    uuid,
    event: truncatedText(event.event, MAX_EVENT_NAME),
    distinctId: distinctIdOf(event, properties),
    timestamp: eventTimestamp({ timestamp: event.timestamp, offset: event.offset, sentAt, ignoreSentAt: properties.$ignore_sent_at === true }, now),
    properties,
    sessionId: shortString(properties.$session_id, MAX_ID),
    windowId: shortString(properties.$window_id, MAX_ID),
    currentUrl: shortString(properties.$current_url, 65_536),
  };
}

export interface CaptureRequest {
  token: string;
  events: CapturedEvent[];
}

/**
 * The events of a decoded request, each validated (one bad event refuses the request: nothing is stored half).
 * `sentAtFallback` is the `_` query parameter posthog-js adds (ms since the epoch), used when the body has no sent_at.
 */
export function captureRequest(json: unknown, options: { engage: boolean; now: Date; sentAtFallback: unknown }): CaptureRequest {
  const request = rawRequest(json, options.engage);
  if (request.events.length === 0) throw new CaptureError('request holds no event');
  const token = projectToken(request);
  const sentAt = request.sentAt ?? options.sentAtFallback;
  return { token, events: request.events.map((event) => captured(event, options.now, sentAt)) };
}
