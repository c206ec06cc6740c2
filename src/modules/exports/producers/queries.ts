import { z } from 'zod';
import { propertyFilterSchema } from '../../../db/property-filters.js';
import type { EventsPageQuery, ExportedEvent } from '../repository.js';
import type { Credential, PathSourceDeps } from './sources.js';
import type { Row } from './tabular.js';

/** Events read per query while an EventsQuery export pages through them. */
const EVENTS_PAGE = 1000;
/** Recordings asked for per page of the recordings list. */
const RECORDINGS_PAGE = 500;
export const EVENT_COLUMNS = ['*', 'event', 'timestamp', 'distinct_id', 'person', 'uuid', 'properties.<name>'] as const;

/** The parts of PostHog's EventsQuery node that Burrow's captured events answer. */
const EventsQuerySchema = z.looseObject({
  kind: z.literal('EventsQuery'),
  select: z.array(z.string()).min(1),
  event: z.string().nullish(),
  properties: z.array(propertyFilterSchema).nullish(),
  fixedProperties: z.array(propertyFilterSchema).nullish(),
  after: z.string().nullish(),
  before: z.string().nullish(),
  where: z.array(z.string()).nullish(),
  limit: z.number().int().min(1).nullish(),
});

/** A select expression's label: PostHog writes "expr -- Label" for a column's title and keys it by the whole text. */
const expressionOf = (column: string) => column.split(' -- ', 1)[0]!.trim();

function cellOf(expression: string, event: ExportedEvent): unknown {
  switch (expression) {
    case '*':
      return { uuid: event.uuid, event: event.event, properties: event.properties, timestamp: event.timestamp, distinct_id: event.distinctId, created_at: event.createdAt };
    case 'event':
      return event.event;
    case 'timestamp':
      return event.timestamp;
    case 'distinct_id':
      return event.distinctId;
    case 'uuid':
      return event.uuid;
    case 'person':
      return { distinct_id: event.distinctId, ...(event.person && { uuid: event.person.uuid, properties: event.person.properties }) };
    default:
      return event.properties[expression.slice('properties.'.length)] ?? null;
  }
}

const isPlainColumn = (expression: string) =>
  (EVENT_COLUMNS as readonly string[]).includes(expression) || /^properties\.[^\s()]+$/.test(expression);

export interface EventsSourceDeps {
  eventsPage(teamId: number, query: EventsPageQuery): Promise<ExportedEvent[]>;
}

/**
 * An EventsQuery over the team's captured events, newest first, paged by (timestamp, uuid). As in PostHog's exporter,
 * the query's limit is a page size, not a total: every matching event is exported (up to the row cap).
 */
export async function* eventsQueryRows(deps: EventsSourceDeps, teamId: number, timeZone: string, source: unknown, signal: AbortSignal): AsyncGenerator<Row> {
  const parsed = EventsQuerySchema.safeParse(source);
  if (!parsed.success) throw new Error(`Invalid EventsQuery: ${parsed.error.issues[0]?.path.join('.') || 'query'}: ${parsed.error.issues[0]?.message}`);
  const q = parsed.data;
  if (q.where?.length) throw new Error('EventsQuery exports do not support where expressions yet; use properties filters');
  const unsupported = q.select.find((column) => !isPlainColumn(expressionOf(column)));
  if (unsupported !== undefined) throw new Error(`EventsQuery column "${unsupported}" is not supported: use ${EVENT_COLUMNS.join(', ')}`);
  const filters = [...(q.properties ?? []), ...(q.fixedProperties ?? [])];
  if (filters.some((f) => f.type === 'session')) throw new Error('EventsQuery exports do not support session property filters');
  const pageSize = Math.min(q.limit ?? EVENTS_PAGE, EVENTS_PAGE);
  const select = q.select;
  const expressions = select.map(expressionOf);
  let cursor: EventsPageQuery['cursor'];
  for (;;) {
    signal.throwIfAborted();
    const page = await deps.eventsPage(teamId, {
      event: q.event ?? undefined,
      properties: filters,
      after: q.after ?? undefined,
      before: q.before ?? undefined,
      cursor,
      limit: pageSize,
      timeZone,
    });
    const last = page.at(-1);
    const more = page.length === pageSize;
    // Each event is let go of once its row is made: the page's events are not all kept alive until its last row is
    // written, long enough for V8 to move them to the old generation, where they wait for a full collection.
    page.reverse();
    for (let event = page.pop(); event !== undefined; event = page.pop()) {
      const row: Row = {};
      for (let i = 0; i < select.length; i += 1) row[select[i]!] = cellOf(expressions[i]!, event);
      yield row;
    }
    if (!more || !last) return;
    cursor = { timestamp: last.timestamp, uuid: last.uuid };
  }
}

/** A RecordingsQuery's parameters as the recordings list takes them: strings as they are, everything else JSON. */
function recordingsListPath(teamId: number, source: Record<string, unknown>, pageSize: number, after?: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(source)) {
    if (key === 'kind' || key === 'limit' || key === 'after' || value === undefined || value === null) continue;
    params.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  params.set('limit', String(pageSize));
  if (after) params.set('after', after);
  return `/api/projects/${teamId}/session_recordings/?${params.toString()}`;
}

/**
 * A RecordingsQuery, answered by the recordings module's own list (called as the export's creator, as a path export
 * is), following next_cursor while has_next; the query's limit is the page size.
 */
export async function* recordingsQueryRows(api: PathSourceDeps, teamId: number, source: Record<string, unknown>, credential: Credential, signal: AbortSignal): AsyncGenerator<Row> {
  const pageSize = typeof source.limit === 'number' && source.limit > 0 ? Math.min(source.limit, RECORDINGS_PAGE) : RECORDINGS_PAGE;
  let after = typeof source.after === 'string' ? source.after : undefined;
  for (;;) {
    signal.throwIfAborted();
    const response = await api.get(recordingsListPath(teamId, source, pageSize, after), { authorization: `Bearer ${await credential()}` });
    if (response.statusCode !== 200) throw new Error(`The recordings query failed with status ${response.statusCode}: ${response.body.slice(0, 300)}`);
    const body = JSON.parse(response.body) as { results: Row[]; has_next?: boolean; next_cursor?: string };
    yield* body.results;
    if (!body.has_next || !body.next_cursor) return;
    after = body.next_cursor;
  }
}
