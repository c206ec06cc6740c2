import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { gridOfNumber, packPoint, pageKeyOfUrl, urlHashOfUrl } from '../../db/schema/index.js';
import { type NamedStatement, namedStatement, preparedByShape } from '../../db/prepared-by-shape.js';
import { newUuid } from '../../lib/ids.js';
import type { CapturedEvent } from './events.js';
import { type HeatmapPoint, type HeatmapPointType, takeHeatmapPoints } from './heatmap-points.js';
import { processesPerson } from './person-updates.js';
import { sessionFields } from './session-fields.js';

/**
 * The events of one or more requests of a team stored in one statement, so that the common request costs at most one
 * round trip: the events (each uuid once per team), then, for the events that were new only, their heatmap points
 * (and the pages they were on), their sessions' aggregates and, when asked, an empty person for each distinct id that
 * has none. A batch sent again, or twice at once, finds its events stored and adds nothing; a single statement is
 * stored all or nothing.
 */

/** A page's points of one event as the events statement stores them, with what the page index holds worked out. */
interface HeatmapPageInput {
  url: string;
  url_key: string;
  url_hash: string;
  points: { type: HeatmapPointType; x: number; y: number; fixed: boolean; packed: string | null }[];
}

/** An event's points grouped by page (its URL's keys worked out once), each point packed (base64) for the page index. */
function heatmapPages(points: HeatmapPoint[], viewport: { width: number | null; height: number | null }): HeatmapPageInput[] {
  const pages = new Map<string, HeatmapPageInput>();
  for (const point of points) {
    let page = pages.get(point.url);
    if (page === undefined) pages.set(point.url, (page = { url: point.url, url_key: pageKeyOfUrl(point.url), url_hash: urlHashOfUrl(point.url), points: [] }));
    const packed = packPoint(point, viewport);
    page.points.push({ type: point.type, x: point.x, y: point.y, fixed: point.targetFixed, packed: packed && packed.toString('base64') });
  }
  return [...pages.values()];
}

/** One event as the statement reads it (jsonb_to_recordset): its columns and what it gives its session and heatmap. */
interface EventInput {
  ord: number;
  uuid: string;
  event: string;
  distinct_id: string;
  at: string;
  properties: Record<string, unknown>;
  session_id: string | null;
  window_id: string | null;
  current_url: string | null;
  session_url: string | null;
  referring_domain: string | null;
  attribution: Record<string, string>;
  heatmap?: HeatmapPageInput[];
  viewport_width: number | null;
  viewport_height: number | null;
  /** The viewport's width on the grid, as heatmap_points.grid_width holds it. */
  grid_width: number | null;
  /** The uuid of the person made for this distinct id if it has none yet, the same for its events of the request (the statement makes one). */
  person_uuid?: string;
}

export interface StoreOptions {
  /** Give each new event's distinct id an empty person when it has none (no event of the request changes persons). */
  ensurePersons: boolean;
  /** Set the team's ingested_event flag if this is its first event. */
  flagTeam: boolean;
  /** Store the events' heatmap points (their `$heatmap_data` is taken out of the events either way). */
  keepHeatmaps: boolean;
}

export interface StoredEvents {
  /** The uuids of the events that were new. */
  uuids: string[];
  /** Whether this request set the team's ingested_event flag. */
  firstForTeam: boolean;
}

/** One request's events as the statement reads them, serialized as the request arrives, while it waits for its statement. */
export interface EventsInput {
  /** The events' inputs as JSON objects, comma-separated: the request's part of the statement's array. */
  json: string;
  /** Their uuids, each once, in order. */
  uuids: string[];
  /** Whether one of them asks for a person. */
  asksPerson: boolean;
}

/** Numbers the events in order of arrival in this process: the requests sharing a statement keep their order. */
let arrivals = 0;

/**
 * A request's input for the statement: each uuid once (the first event with it), none of those in `skip`. With
 * `ensurePersons`, each distinct id of an event that asks for a person gets the uuid of the person to make for it.
 */
export function eventsInput(
  captured: CapturedEvent[],
  { ensurePersons, keepHeatmaps }: Pick<StoreOptions, 'ensurePersons' | 'keepHeatmaps'>,
  skip: { has(uuid: string): boolean } = new Set<string>(),
): EventsInput {
  const uuids = new Set<string>();
  const personUuids = new Map<string, string>();
  const parts: string[] = [];
  for (const original of captured) {
    if (uuids.has(original.uuid) || skip.has(original.uuid)) continue;
    uuids.add(original.uuid);
    const { event, points, viewport } = takeHeatmapPoints(original);
    const session = sessionFields(event);
    const input: EventInput = {
      ord: arrivals++,
      uuid: event.uuid,
      event: event.event,
      distinct_id: event.distinctId,
      at: event.timestamp,
      properties: event.properties,
      session_id: event.sessionId,
      window_id: event.windowId,
      current_url: event.currentUrl,
      session_url: session.url,
      referring_domain: session.referringDomain,
      attribution: session.attribution,
      viewport_width: viewport.width,
      viewport_height: viewport.height,
      grid_width: viewport.width === null ? null : gridOfNumber(viewport.width),
    };
    if (keepHeatmaps && points.length > 0) input.heatmap = heatmapPages(points, viewport);
    if (ensurePersons && processesPerson(event)) {
      let personUuid = personUuids.get(event.distinctId);
      if (personUuid === undefined) personUuids.set(event.distinctId, (personUuid = newUuid()));
      input.person_uuid = personUuid;
    }
    parts.push(JSON.stringify(input));
  }
  return { json: parts.join(','), uuids: [...uuids], asksPerson: personUuids.size > 0 };
}

/**
 * The requests' inputs as one: each uuid once in the statement, counted for the first request that has it. Requests
 * that share none (nearly always) are joined as they were serialized; otherwise all are serialized again in order.
 */
function statementInput(
  requests: { captured: CapturedEvent[]; input: EventsInput }[],
  options: Pick<StoreOptions, 'ensurePersons' | 'keepHeatmaps'>,
): { inputs: EventsInput[]; requestOf: Map<string, number> } {
  const requestOf = new Map<string, number>();
  let shared = false;
  for (const [i, { input }] of requests.entries()) {
    for (const uuid of input.uuids) {
      if (requestOf.has(uuid)) shared = true;
      else requestOf.set(uuid, i);
    }
  }
  if (!shared) return { inputs: requests.map(({ input }) => input), requestOf };
  requestOf.clear();
  const inputs = requests.map(({ captured }, i) => {
    const input = eventsInput(captured, options, requestOf);
    for (const uuid of input.uuids) requestOf.set(uuid, i);
    return input;
  });
  return { inputs, requestOf };
}

const TEAM = sql`${sql.placeholder('team')}::int`;
const INPUT = sql.placeholder('input');

/**
 * Each new distinct id gets its person_distinct_ids row first and its person from the row that was inserted, so a
 * distinct id another request gave a person meanwhile (the insert skips it) leaves no person without an id. The
 * person's id is taken from its sequence up front; the foreign key is checked when the statement ends.
 */
const ENSURE_PERSONS = sql`,
  unknown_ids as (
    select distinct on (distinct_id) distinct_id, person_uuid from fresh
    where person_uuid is not null and not exists (select 1 from person_distinct_ids d where d.team_id = ${TEAM} and d.distinct_id = fresh.distinct_id)
    order by distinct_id
  ),
  attached as (
    insert into person_distinct_ids (team_id, distinct_id, person_id)
    select ${TEAM}, distinct_id, nextval(pg_get_serial_sequence('persons', 'id')) from unknown_ids order by distinct_id
    on conflict do nothing
    returning distinct_id, person_id
  ),
  created as (
    insert into persons (id, uuid, team_id, properties)
    select attached.person_id, unknown_ids.person_uuid, ${TEAM}, '{}'::jsonb from attached join unknown_ids using (distinct_id)
  )`;

const FLAG_TEAM = sql`,
  flagged as (
    update teams set ingested_event = true where id = ${TEAM} and not ingested_event and exists (select 1 from inserted) returning id
  )`;

/**
 * A session's aggregate adds to the stored one: earlier entries replace the entry fields, later ones the end fields.
 * Events are ordered by time, then by their place in the request.
 */
function statement(options: StoreOptions): SQL {
  return sql`
  with input as (
    select * from jsonb_to_recordset(${INPUT}::jsonb) as r(
      ord int8, uuid uuid, event text, distinct_id text, at timestamptz, properties jsonb, session_id text, window_id text,
      current_url text, session_url text, referring_domain text, attribution jsonb, heatmap jsonb, viewport_width int,
      viewport_height int, grid_width int, person_uuid uuid)
  ),
  inserted as (
    insert into events (team_id, uuid, event, distinct_id, timestamp, properties, session_id, window_id, current_url)
    select ${TEAM}, uuid, event, distinct_id, at, properties, session_id, window_id, current_url from input order by ord
    on conflict do nothing
    returning uuid
  ),
  fresh as (select input.* from input join inserted using (uuid)),
  fresh_pages as (
    select fresh.uuid, fresh.at, fresh.session_id, fresh.distinct_id, fresh.viewport_width, fresh.viewport_height, fresh.grid_width, g.url, g.url_key, g.url_hash, g.points
    from fresh cross join lateral jsonb_to_recordset(fresh.heatmap) as g(url text, url_key uuid, url_hash uuid, points jsonb)
  ),
  points as (
    insert into heatmap_points (team_id, event_uuid, timestamp, session_id, distinct_id, url, type, x, y, target_fixed, viewport_width, viewport_height,
      url_key, grid_width, packed)
    select ${TEAM}, uuid, at, session_id, distinct_id, url, p.type, p.x, p.y, p.fixed, viewport_width, viewport_height, url_key, grid_width, decode(p.packed, 'base64')
    from fresh_pages cross join lateral jsonb_to_recordset(fresh_pages.points) as p(type text, x int, y int, fixed boolean, packed text)
  ),
  pages as (
    insert into heatmap_pages (team_id, url) select distinct ${TEAM}, url from fresh_pages order by 2 on conflict do nothing
  ),
  -- A known page's sighting, to the day: its row is locked and written once a day, not by every statement (an upsert
  -- would lock it even when it changes nothing). The pages are probed by their key (= any), whatever the plan: a
  -- prepared statement planned on a young table would scan all the team's pages.
  pages_seen as (
    update heatmap_pages set last_seen_at = now()
    where team_id = ${TEAM} and url_hash = any(array(select distinct url_hash from fresh_pages)) and last_seen_at < now() - interval '1 day'
  ),
  session_totals as (
    select
      session_id,
      (array_agg(distinct_id order by at, ord))[1] as distinct_id,
      min(at) as start_timestamp,
      max(at) as end_timestamp,
      (array_agg(session_url order by at, ord) filter (where session_url is not null))[1] as entry_url,
      (array_agg(session_url order by at desc, ord desc) filter (where session_url is not null))[1] as end_url,
      (array_agg(referring_domain order by at, ord) filter (where referring_domain is not null))[1] as entry_referring_domain,
      count(*) filter (where event = '$pageview')::int as pageview_count,
      count(*) filter (where event = '$autocapture')::int as autocapture_count,
      count(*) filter (where event = '$screen')::int as screen_count
    from fresh where session_id is not null group by session_id
  ),
  session_attribution as (
    select session_id, jsonb_object_agg(key, value) as entry_attribution from (
      select distinct on (fresh.session_id, a.key) fresh.session_id, a.key, a.value
      from fresh cross join lateral jsonb_each(fresh.attribution) as a
      where fresh.session_id is not null
      order by fresh.session_id, a.key, fresh.at, fresh.ord
    ) as firsts group by session_id
  ),
  sessions as (
    insert into raw_sessions (team_id, session_id, distinct_id, start_timestamp, end_timestamp, entry_url, end_url, entry_referring_domain,
      entry_attribution, pageview_count, autocapture_count, screen_count)
    select ${TEAM}, s.session_id, s.distinct_id, s.start_timestamp, s.end_timestamp, s.entry_url, s.end_url, s.entry_referring_domain,
      coalesce(a.entry_attribution, '{}'::jsonb), s.pageview_count, s.autocapture_count, s.screen_count
    from session_totals s left join session_attribution a using (session_id)
    order by s.session_id
    on conflict (team_id, session_id) do update set
      start_timestamp = least(raw_sessions.start_timestamp, excluded.start_timestamp),
      end_timestamp = greatest(raw_sessions.end_timestamp, excluded.end_timestamp),
      entry_url = case when excluded.start_timestamp < raw_sessions.start_timestamp then coalesce(excluded.entry_url, raw_sessions.entry_url) else coalesce(raw_sessions.entry_url, excluded.entry_url) end,
      end_url = case when excluded.end_timestamp >= raw_sessions.end_timestamp then coalesce(excluded.end_url, raw_sessions.end_url) else coalesce(raw_sessions.end_url, excluded.end_url) end,
      entry_referring_domain = case when excluded.start_timestamp < raw_sessions.start_timestamp then coalesce(excluded.entry_referring_domain, raw_sessions.entry_referring_domain) else coalesce(raw_sessions.entry_referring_domain, excluded.entry_referring_domain) end,
      entry_attribution = case when excluded.start_timestamp < raw_sessions.start_timestamp then raw_sessions.entry_attribution || excluded.entry_attribution else excluded.entry_attribution || raw_sessions.entry_attribution end,
      distinct_id = case when excluded.start_timestamp < raw_sessions.start_timestamp then excluded.distinct_id else raw_sessions.distinct_id end,
      pageview_count = raw_sessions.pageview_count + excluded.pageview_count,
      autocapture_count = raw_sessions.autocapture_count + excluded.autocapture_count,
      screen_count = raw_sessions.screen_count + excluded.screen_count
  )${options.ensurePersons ? ENSURE_PERSONS : sql``}${options.flagTeam ? FLAG_TEAM : sql``}
  select
    (select coalesce(json_agg(uuid), '[]'::json) from inserted) as uuids,
    ${options.flagTeam ? sql`exists (select 1 from flagged)` : sql`false`} as first_for_team`;
}

interface StatementRow {
  uuids: string[];
  first_for_team: boolean;
}

/**
 * The statement for these options, prepared under its own name: its text is long and the same on every request, so
 * Postgres parses it once per connection and can reuse its plan.
 */
const statements = preparedByShape<NamedStatement<StatementRow>>('capture_store_events');
const prepared = (options: StoreOptions) =>
  statements(`persons ${options.ensurePersons}, flag ${options.flagTeam}`, (name) => namedStatement(name, () => statement(options)));

/**
 * Stores the requests' events (see the top of this file) and answers, per request, the uuids that were new for it;
 * `db` may be a transaction that goes on to update persons. The team's first event is the first request's. Each
 * request's `input` is eventsInput's of its `captured` events, with the same options.
 */
export async function storeEvents(
  db: Db,
  teamId: number,
  requests: { captured: CapturedEvent[]; input: EventsInput }[],
  options: StoreOptions,
): Promise<StoredEvents[]> {
  const { inputs, requestOf } = statementInput(requests, options);
  // The statement's person part only when an event asks for a person (posthog-js's anonymous visitors do not).
  const shape = { ...options, ensurePersons: inputs.some((input) => input.asksPerson) };
  const json = `[${inputs
    .map((input) => input.json)
    .filter((part) => part !== '')
    .join(',')}]`;
  const rows = await prepared(shape)(db, { team: teamId, input: json });
  const stored = requests.map((_, i): StoredEvents => ({ uuids: [], firstForTeam: i === 0 && rows[0]!.first_for_team }));
  for (const uuid of rows[0]!.uuids) stored[requestOf.get(uuid)!]!.uuids.push(uuid);
  return stored;
}
