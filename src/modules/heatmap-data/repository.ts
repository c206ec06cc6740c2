import { type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.js';
import { gridOf, gridOfNumber, NO_HEIGHT, PACKED_BYTES, pageKeyOf, relativeXCentsOf } from '../../db/schema/index.js';
import { assertPatternsCompile, type PropertyFilter, propertyCondition } from '../../db/property-filters.js';
import { type Aggregation, SCALE_FACTOR } from './contract.js';

/** Which points a heatmap query reads (heatmaps_api.py's predicates). */
export interface PointFilter {
  type: string;
  /** Calendar days in `timeZone`: from the start of `from` to the start of the day after `to`, both included. */
  from: string;
  to: string;
  timeZone: string;
  url: { exact: string } | { pattern: string } | null;
  viewportWidthMin: number | null;
  viewportWidthMax: number | null;
  /** The project's test_account_filters a point's session must have an event matching, in the date range; null for none. */
  testAccounts: PropertyFilter[] | null;
  hideZeroCoordinates: boolean;
}

// PostHog's points are on a 16-px grid; the table keeps the reported CSS pixels and, written by capture, what the page
// index holds: the viewport's width on the grid and the packed point (schema/heatmap-points.ts).
const SCALE = sql.raw(String(SCALE_FACTOR));
const X = sql.raw(gridOf('p.x'));
const Y = sql.raw(gridOf('p.y'));
const WIDTH = sql`p.grid_width`;
const HEIGHT = sql.raw(gridOf('p.viewport_height'));
/** x across the viewport in hundredths (relativeXCentsOf); the width is never 0 where the queries read it (width > 0). */
const RELATIVE_X_CENTS = sql.raw(relativeXCentsOf(gridOf('p.x'), 'p.grid_width'));
/** The same double as round(X / WIDTH, 2)::float8: the division of two exact doubles rounds to the nearest one. */
const RELATIVE_X = sql`((${RELATIVE_X_CENTS})::float8 / 100)`;
const POINTER_Y = sql`(${Y} * ${SCALE})::int`;
/** A viewport bound on the grid (gridOfNumber, as capture puts the viewport there), kept within an integer's range. */
const gridBound = (value: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, gridOfNumber(value)));

const dayStart = (day: string, timeZone: string) => sql`(${day}::date::timestamp at time zone ${timeZone})`;
const rangeEnd = (filter: PointFilter) => sql`${dayStart(filter.to, filter.timeZone)} + interval '1 day'`;

/**
 * The filter's days, or one of them (`day`, a date): a day runs from its start to the next day's, and the range's
 * last instant (the start of the day after `to`) belongs to its last day, as it belongs to the range.
 */
function timeConditions(filter: PointFilter, day: SQL | null): SQL[] {
  if (day === null) return [sql`p.timestamp >= ${dayStart(filter.from, filter.timeZone)}`, sql`p.timestamp <= ${rangeEnd(filter)}`];
  return [
    sql`p.timestamp >= (${day}::timestamp at time zone ${filter.timeZone})`,
    sql`p.timestamp < case when ${day} = ${filter.to}::date then ${rangeEnd(filter)} + interval '1 microsecond' else ((${day} + 1)::timestamp at time zone ${filter.timeZone}) end`,
  ];
}

function testAccountCondition(filters: PropertyFilter[], filter: PointFilter): SQL {
  const conditions = filters.map((f) =>
    f.type === 'person'
      ? sql`exists (select 1 from person_distinct_ids pd join persons pp on pp.id = pd.person_id
          where pd.team_id = e.team_id and pd.distinct_id = e.distinct_id and ${propertyCondition(f, sql`pp.properties`, { timeZone: filter.timeZone })})`
      : propertyCondition(f, sql`e.properties`, { timeZone: filter.timeZone }),
  );
  // $$heatmap events are left out: PostHog's ingestion never stores them with the others.
  return sql`p.session_id in (select e.session_id from events e where e.team_id = p.team_id and e.session_id is not null and e.event <> '$$heatmap'
    and e.timestamp >= ${dayStart(filter.from, filter.timeZone)} and e.timestamp <= ${rangeEnd(filter)}
    ${sql.join(conditions.map((c) => sql`and ${c}`), sql` `)})`;
}

/** The conditions on a point's stored columns: its team, type, time (one `day` of the filter's when given), page and session. */
function rowConditions(teamId: number, filter: PointFilter, day: SQL | null): SQL[] {
  const conditions = [sql`p.team_id = ${teamId}`, sql`p.type = ${filter.type}`, ...timeConditions(filter, day)];
  // url_key is md5(rtrim(url, '/')): a page's points are one range of heatmap_points_team_type_page. A pattern, or no
  // URL, reads the range of each of the team's pages (heatmap_pages) that can hold its points.
  if (filter.url && 'exact' in filter.url) conditions.push(sql`p.url_key = ${pageKeyOf(sql`${filter.url.exact}`)}`);
  else {
    const pattern = filter.url ? sql`and url ~ ${filter.url.pattern}` : sql``;
    conditions.push(sql`p.url_key = any(array(select distinct url_key from heatmap_pages where team_id = ${teamId} ${pattern}))`);
    if (filter.url) conditions.push(sql`p.url ~ ${filter.url.pattern}`);
  }
  if (filter.testAccounts) conditions.push(testAccountCondition(filter.testAccounts, filter));
  return conditions;
}

/** The conditions on its place on the grid (x, y and the viewport's width there). */
function gridConditions(at: { x: SQL; y: SQL; width: SQL }, filter: PointFilter, options: { zeroFilter: boolean }): SQL[] {
  // PostHog's ingestion drops the points of events without a viewport; a viewport under 8 px has no width on the grid.
  const conditions = [sql`${at.width} > 0`];
  if (filter.viewportWidthMin !== null) conditions.push(sql`${at.width} >= ${gridBound(filter.viewportWidthMin)}::int`);
  if (filter.viewportWidthMax !== null) conditions.push(sql`${at.width} <= ${gridBound(filter.viewportWidthMax)}::int`);
  if (options.zeroFilter && filter.hideZeroCoordinates) conditions.push(sql`not (${at.x} = 0 and ${at.y} = 0)`);
  return conditions;
}

const and = (conditions: SQL[]) => sql.join(conditions, sql` and `);

function where(teamId: number, filter: PointFilter, options: { zeroFilter: boolean; day?: SQL }): SQL {
  return and([...rowConditions(teamId, filter, options.day ?? null), ...gridConditions({ x: X, y: Y, width: WIDTH }, filter, options)]);
}

/** Each point's visitor and cell (cx, x across the viewport in hundredths; gy; fixed), the hidden zero point left out. */
function visitorsOnGrid(teamId: number, filter: PointFilter): SQL {
  return sql`select ${Y} as gy, p.target_fixed as fixed, p.distinct_id, ${RELATIVE_X_CENTS} as cx
    from heatmap_points p where ${where(teamId, filter, { zeroFilter: true })}`;
}

const counted = (aggregation: Aggregation, distinctId: SQL) => (aggregation === 'unique_visitors' ? sql`count(distinct ${distinctId})` : sql`count(*)`);

/**
 * The points travel to Node as heatmap_points.packed holds them, PACKED_BYTES each (schema/heatmap-points.ts): cx as a
 * float8, then gy * 4 + 2 at (0, 0) + 1 when fixed as an int4, then the viewport height on the grid (or NO_HEIGHT).
 * Node counts the cells and works out the fold: a page's points cost it a fraction of Postgres's hash aggregate,
 * top-N sort and aggregates over them. One value per day of the range, so that no value outgrows what Postgres and
 * Node can hold.
 */
const packed = (value: SQL) => sql`coalesce(string_agg(${value}, ''::bytea), ''::bytea)`;
/** The cells' order, x then y then fixed, is the order of cx and of this number. */
const yFixedOf = (yFlags: number) => (yFlags >> 2) * 2 + (yFlags & 1);
const isZero = (yFlags: number) => (yFlags & 2) === 2;

interface Cell {
  count: number;
  pointer_y: number;
  pointer_relative_x: number;
  pointer_target_fixed: boolean;
}

/**
 * The cells of packed values (PACKED_BYTES each: cx, y with its flags, then a point's viewport height or, when
 * `weighted`, the cell's count), hottest first, then by x, y and fixed; `limit` of them from `offset`; points at
 * (0, 0) left out when `hideZero`. The cells are listed in (x, y, fixed) order, then sorted by count with a counting
 * sort, which keeps that order among equal counts.
 */
function rankCells(values: Uint8Array[], options: { weighted: boolean; hideZero: boolean }, page: { limit: number; offset: number }): Cell[] {
  const columns = new Map<number, Map<number, number>>();
  for (const chunk of values) {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let offset = 0; offset < chunk.byteLength; offset += PACKED_BYTES) {
      const cx = view.getFloat64(offset);
      const yFlags = view.getInt32(offset + 8);
      if (options.hideZero && isZero(yFlags)) continue;
      const yFixed = yFixedOf(yFlags);
      let column = columns.get(cx);
      if (column === undefined) columns.set(cx, (column = new Map()));
      column.set(yFixed, (column.get(yFixed) ?? 0) + (options.weighted ? view.getInt32(offset + 12) : 1));
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  const counts: number[] = [];
  let most = 0;
  for (const cx of Float64Array.from(columns.keys()).sort()) {
    const column = columns.get(cx)!;
    for (const yFixed of Int32Array.from(column.keys()).sort()) {
      const count = column.get(yFixed)!;
      xs.push(cx);
      ys.push(yFixed);
      counts.push(count);
      most = Math.max(most, count);
    }
  }
  // Where each count's cells start in the answer, the highest count first.
  const next = new Int32Array(most + 2);
  for (const count of counts) next[most - count + 1]!++;
  for (let i = 1; i < next.length; i++) next[i]! += next[i - 1]!;
  const order = new Int32Array(counts.length);
  counts.forEach((count, i) => (order[next[most - count]!++] = i));
  return Array.from(order.subarray(page.offset, page.offset + page.limit), (i) => ({
    count: counts[i]!,
    pointer_y: (ys[i]! >> 1) * SCALE_FACTOR,
    pointer_relative_x: xs[i]! / 100,
    pointer_target_fixed: (ys[i]! & 1) === 1,
  }));
}

/**
 * The fold of packed points (points at (0, 0) left out when `hideZero`): how many of those not on fixed elements lie
 * below the first screen, and the median viewport height in pixels as percentile_cont(0.5) takes it (between the two
 * middle points), all points with a height counted.
 */
function foldOf(points: Uint8Array[], hideZero: boolean): { total: number; below: number; median: number | null } {
  const heights = new Map<number, number>();
  let count = 0;
  let total = 0;
  let below = 0;
  for (const chunk of points) {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let offset = 0; offset < chunk.byteLength; offset += PACKED_BYTES) {
      const yFlags = view.getInt32(offset + 8);
      if (hideZero && isZero(yFlags)) continue;
      const gh = view.getInt32(offset + 12);
      if (gh !== NO_HEIGHT) {
        heights.set(gh, (heights.get(gh) ?? 0) + 1);
        count++;
      }
      if ((yFlags & 1) === 1) continue;
      total++;
      if (gh !== NO_HEIGHT && yFlags >> 2 > gh) below++;
    }
  }
  if (count === 0) return { total, below, median: null };
  // The values at ranks floor((n - 1) / 2) and ceil((n - 1) / 2); both multiples of 16, so their mean is whole.
  const ranks = [Math.floor((count - 1) / 2), Math.ceil((count - 1) / 2)];
  const atRank: number[] = [];
  let seen = 0;
  for (const gh of [...heights.keys()].sort((a, b) => a - b)) {
    seen += heights.get(gh)!;
    while (atRank.length < 2 && ranks[atRank.length]! < seen) atRank.push(gh * SCALE_FACTOR);
  }
  return { total, below, median: (atRank[0]! + atRank[1]!) / 2 };
}

export function createHeatmapDataRepository(db: Db) {
  /**
   * The points as points() answers them and the fold. Postgres answers the points of each day of the range packed
   * (one read of each day's part of the page's index range) and, when visitors are counted, the cells with their
   * visitors; Node counts and ranks.
   */
  async function pointsAndFold(teamId: number, filter: PointFilter, aggregation: Aggregation, page: { limit: number; offset: number }) {
    const day = sql`(${filter.from}::date + d.n)`;
    const [points, visitors] = await Promise.all([
      queryRows<{ points: Uint8Array }>(
        db,
        sql`select s.points from generate_series(0, ${filter.to}::date - ${filter.from}::date) as d(n),
          lateral (select ${packed(sql`p.packed`)} as points from heatmap_points p where ${where(teamId, filter, { zeroFilter: false, day })}) s`,
      ),
      aggregation === 'unique_visitors'
        ? queryRows<{ cells: Uint8Array }>(
            db,
            sql`select ${packed(sql`float8send(g.cx::float8) || int4send(g.gy * 4 + g.fixed::int) || int4send(g.visitors)`)} as cells
              from (select g.cx, g.gy, g.fixed, count(distinct g.distinct_id)::int as visitors from (${visitorsOnGrid(teamId, filter)}) g group by 1, 2, 3) g`,
          )
        : null,
    ]);
    const chunks = points.map((row) => row.points);
    const hideZero = filter.hideZeroCoordinates;
    return {
      points: visitors ? rankCells([visitors[0]!.cells], { weighted: true, hideZero: false }, page) : rankCells(chunks, { weighted: false, hideZero }, page),
      fold: foldOf(chunks, hideZero),
    };
  }

  return {
    /** Compiles the URL pattern's regex first, so one Postgres rejects is a 400 rather than a failed query. */
    assertCompiles: (pattern: string) => assertPatternsCompile(db, [pattern]),

    /** Points grouped on the grid, hottest first; `limit` rows from `offset`. */
    async points(teamId: number, filter: PointFilter, aggregation: Aggregation, page: { limit: number; offset: number }) {
      return (await pointsAndFold(teamId, filter, aggregation, page)).points;
    },

    pointsAndFold,

    /** Scroll depth in 100-px buckets of the viewport's bottom edge, shallowest first, with how many got at least that far. */
    async scrollDepth(teamId: number, filter: PointFilter, aggregation: Aggregation) {
      return queryRows<{ cumulative_count: number; bucket_count: number; scroll_depth_bucket: number }>(
        db,
        sql`select (sum(cnt) over (order by bucket desc))::int as cumulative_count, cnt::int as bucket_count, bucket::int as scroll_depth_bucket
          from (select floor((${Y} + ${HEIGHT}) * ${SCALE} / 100::numeric) * 100 as bucket, ${counted(aggregation, sql`p.distinct_id`)} as cnt
                from heatmap_points p where ${where(teamId, filter, { zeroFilter: false })} group by 1) buckets
          order by bucket`,
      );
    },

    /** The interactions behind grid points, newest first, and how many there are in all. */
    async events(teamId: number, filter: PointFilter, points: { x: number; y: number; fixed: boolean }[], page: { limit: number; offset: number }) {
      const at = points.map((point) => sql`(${RELATIVE_X} = round(${point.x}::numeric, 2) and ${POINTER_Y} = ${point.y} and p.target_fixed = ${point.fixed})`);
      const matching = sql`${where(teamId, filter, { zeroFilter: false })} and (${sql.join(at, sql` or `)})`;
      const [rows, [total]] = await Promise.all([
        queryRows<{ session_id: string | null; distinct_id: string; timestamp: string; pointer_relative_x: number; pointer_y: number; current_url: string; type: string }>(
          db,
          sql`select p.session_id, p.distinct_id, p.timestamp::text as timestamp, ${RELATIVE_X} as pointer_relative_x, ${POINTER_Y} as pointer_y,
              p.url as current_url, p.type
            from heatmap_points p where ${matching} order by p.timestamp desc, p.event_uuid desc, p.type, p.x, p.y, p.target_fixed limit ${page.limit} offset ${page.offset}`,
        ),
        queryRows<{ n: number }>(db, sql`select count(*)::int as n from heatmap_points p where ${matching}`),
      ]);
      return { rows, total: total!.n };
    },
  };
}

export type HeatmapDataRepository = ReturnType<typeof createHeatmapDataRepository>;
