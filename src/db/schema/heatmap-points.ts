import { createHash } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, primaryKey, text, uuid, varchar } from 'drizzle-orm/pg-core';
import { HEATMAP_POINT_TYPES } from '../enums.js';
import { bytea, captureTeamId, timestamptz } from './columns.js';

/**
 * A coordinate in CSS pixels on the 16-px grid, rounded half away from zero as Postgres's round of the quotient would
 * (PostHog's ingestion rounds x / 16 with Math.round), in integer arithmetic: the SQL form, for the queries.
 */
export const gridOf = (column: string) => `(case when ${column} < 0 then (${column}::int8 - 8) / 16 else (${column}::int8 + 8) / 16 end)::int`;

/** The same in Node, for capture: the division by 16 is exact in a double, so truncating it matches int8 division. */
export const gridOfNumber = (value: number) => Math.trunc((value < 0 ? value - 8 : value + 8) / 16);

/** The page a url_exact query compares: the URL without its trailing slashes, as md5 in a uuid (16 bytes however long the URL). */
export const pageKeyOf = (url: SQL) => sql`md5(rtrim(${url}, '/'))::uuid`;

/** A URL's own key, as md5 in a uuid (a URL may be longer than a b-tree entry can hold). */
export const urlHashOf = (url: SQL) => sql`md5(${url})::uuid`;

const md5Uuid = (text: string) => createHash('md5').update(text, 'utf8').digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

/** pageKeyOf in Node, for capture. */
export const pageKeyOfUrl = (url: string) => md5Uuid(url.replace(/\/+$/, ''));

/** urlHashOf in Node, for capture. */
export const urlHashOfUrl = (url: string) => md5Uuid(url);

const URL_COLUMN = sql.raw('url');

/**
 * round(x / width, 2) in hundredths, of x and a viewport width on the grid, as an integer (in bigint: 200 x may not fit
 * an int); null for a width of 0.
 */
export const relativeXCentsOf = (x: string, width: string) =>
  `(case when ${x} < 0 then 200 * ${x}::int8 - ${width} else 200 * ${x}::int8 + ${width} end) / nullif(2 * ${width}, 0)`;

/** The null height's place in `packed`: no viewport height is this small. */
export const NO_HEIGHT = -(2 ** 31);

/** The bytes of one packed point. */
export const PACKED_BYTES = 16;

/**
 * A point as the heatmap query reads it, PACKED_BYTES: x across the viewport in hundredths (round(x / width, 2) on the
 * grid, relativeXCentsOf) as a float8, exact; y on the grid times 4, plus 2 when the point is at (0, 0) on the grid,
 * plus 1 on a fixed element, as an int4; the viewport height on the grid as an int4 (NO_HEIGHT for none). Null without
 * a viewport width on the grid. Capture packs each point as it stores it; the figures are small enough (|x| < 2^31,
 * so 200 x < 2^39) for a double to hold every step exactly.
 */
export function packPoint(point: { x: number; y: number; targetFixed: boolean }, viewport: { width: number | null; height: number | null }): Buffer | null {
  const width = viewport.width === null ? 0 : gridOfNumber(viewport.width);
  if (width === 0) return null;
  const [x, y] = [gridOfNumber(point.x), gridOfNumber(point.y)];
  const numerator = x < 0 ? 200 * x - width : 200 * x + width;
  const denominator = 2 * width;
  const packed = Buffer.allocUnsafe(PACKED_BYTES);
  packed.writeDoubleBE((numerator - (numerator % denominator)) / denominator, 0);
  packed.writeInt32BE(y * 4 + (x === 0 && y === 0 ? 2 : 0) + (point.targetFixed ? 1 : 0), 8);
  packed.writeInt32BE(viewport.height === null ? NO_HEIGHT : gridOfNumber(viewport.height), 12);
  return packed;
}

/** packPoint in SQL, over a heatmap_points row's columns: for rows made by SQL (the heatmap benchmark's seed) and the test that holds the two together. */
export function packedPointSql(): SQL {
  const [x, y, width, height] = ['x', 'y', 'viewport_width', 'viewport_height'].map(gridOf);
  return sql.raw(
    `float8send((${relativeXCentsOf(x!, width!)})::float8) || int4send(${y} * 4 + case when ${x} = 0 and ${y} = 0 then 2 else 0 end + target_fixed::int) || ` +
      `int4send(coalesce(${height}, ${NO_HEIGHT}))`,
  );
}

/**
 * Where people clicked, moved and dead-clicked: one row per point of a `$heatmap_data` property (posthog-js's
 * `$$heatmap` events), as the page reported it, in CSS pixels of the document (x = clientX + scrollX, y likewise;
 * fixed elements without the scroll), with the viewport it was seen in. The heatmap queries scale them as PostHog.
 *
 * Capture writes a dozen of these per `$$heatmap` event, so the table keeps one index the queries need (every query
 * reads pages: a URL pattern, or no URL, through heatmap_pages) and a BRIN range index on time for retention: no
 * key of its own, nor a second b-tree, to maintain per point. What the page index holds (the page's key, the grid
 * width, the packed point) capture works out in Node once per URL and per point: as generated columns, Postgres's
 * md5 and expressions cost a third of the points' insert (migration 0019); the queries work out the other grid
 * places (gridOf) from x, y and the viewport.
 */
export const heatmapPoints = pgTable(
  'heatmap_points',
  {
    teamId: captureTeamId(),
    /** The event that carried it. */
    eventUuid: uuid('event_uuid').notNull(),
    timestamp: timestamptz('timestamp').notNull(),
    sessionId: varchar('session_id', { length: 200 }),
    distinctId: varchar('distinct_id', { length: 200 }).notNull(),
    url: text('url').notNull(),
    type: varchar('type', { length: 20, enum: HEATMAP_POINT_TYPES }).notNull(),
    x: integer('x').notNull(),
    y: integer('y').notNull(),
    targetFixed: boolean('target_fixed').notNull(),
    viewportWidth: integer('viewport_width'),
    viewportHeight: integer('viewport_height'),
    /** The page (pageKeyOf), written by capture. */
    urlKey: uuid('url_key').notNull(),
    /** The viewport's width on PostHog's 16-px grid (gridOf), written by capture: the page index holds it for the width filters. */
    gridWidth: integer('grid_width'),
    /** The point as the heatmap query reads it (packPoint), written by capture: the page index holds it. */
    packed: bytea('packed'),
  },
  (t) => [
    index('heatmap_points_time').using('brin', t.timestamp),
    // One page's points of a type over a time range, with what the heatmap query reads (the viewport's width, which
    // it filters on, and the packed point): an index-only scan whose cost is the page's points, not the team's.
    index('heatmap_points_team_type_page').on(t.teamId, t.type, t.urlKey, t.timestamp, t.gridWidth, t.packed),
  ],
);

/**
 * Every URL a team's heatmap points were reported on, added by capture with the points: a URL pattern, or a query
 * without a URL, finds its pages here and reads each page's range of heatmap_points_team_type_page. Retention
 * deletes a page a day after the points' cutoff passed its last_seen_at.
 */
export const heatmapPages = pgTable(
  'heatmap_pages',
  {
    teamId: captureTeamId(),
    url: text('url').notNull(),
    urlHash: uuid('url_hash').notNull().generatedAlwaysAs(urlHashOf(URL_COLUMN)),
    urlKey: uuid('url_key').notNull().generatedAlwaysAs(pageKeyOf(URL_COLUMN)),
    /** When capture last stored points on it, to the day (it is written at most once a day); retention goes by it. */
    lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'heatmap_pages_pkey', columns: [t.teamId, t.urlHash] })],
);
