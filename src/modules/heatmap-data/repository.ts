import { type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.js';
import { pageKeyOf } from '../../db/schema/index.js';
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

// PostHog's points are on a 16-px grid; the table keeps the reported CSS pixels and, computed by Postgres, their place on
// the grid (schema/heatmap-points.ts), which the page index holds.
const SCALE = sql.raw(String(SCALE_FACTOR));
const X = sql`p.grid_x`;
const Y = sql`p.grid_y`;
const WIDTH = sql`p.grid_width`;
const HEIGHT = sql`p.grid_height`;
/** round(x / width, 2) in hundredths, as an integer (in bigint: 200 x may not fit an int); the width is never 0 where the queries read it (width > 0). */
const relativeXCents = (x: SQL, width: SQL) => sql`(case when ${x} < 0 then 200 * ${x}::int8 - ${width} else 200 * ${x}::int8 + ${width} end) / nullif(2 * ${width}, 0)`;
/** The same double as round(X / WIDTH, 2)::float8: the division of two exact doubles rounds to the nearest one. */
const RELATIVE_X = sql`((${relativeXCents(X, WIDTH)})::float8 / 100)`;
const POINTER_Y = sql`(${Y} * ${SCALE})::int`;
/** A viewport bound on the grid, as Postgres's round(v / 16) gives it, kept within an integer's range. */
const gridBound = (value: number) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.sign(value) * Math.round(Math.abs(value) / SCALE_FACTOR)));

const dayStart = (day: string, timeZone: string) => sql`(${day}::date::timestamp at time zone ${timeZone})`;

function testAccountCondition(filters: PropertyFilter[], filter: PointFilter): SQL {
  const conditions = filters.map((f) =>
    f.type === 'person'
      ? sql`exists (select 1 from person_distinct_ids pd join persons pp on pp.id = pd.person_id
          where pd.team_id = e.team_id and pd.distinct_id = e.distinct_id and ${propertyCondition(f, sql`pp.properties`, { timeZone: filter.timeZone })})`
      : propertyCondition(f, sql`e.properties`, { timeZone: filter.timeZone }),
  );
  // $$heatmap events are left out: PostHog's ingestion never stores them with the others.
  return sql`p.session_id in (select e.session_id from events e where e.team_id = p.team_id and e.session_id is not null and e.event <> '$$heatmap'
    and e.timestamp >= ${dayStart(filter.from, filter.timeZone)} and e.timestamp <= ${dayStart(filter.to, filter.timeZone)} + interval '1 day'
    ${sql.join(conditions.map((c) => sql`and ${c}`), sql` `)})`;
}

/** The conditions on a point's stored columns: its team, type, time, page and session. */
function rowConditions(teamId: number, filter: PointFilter): SQL[] {
  const conditions = [
    sql`p.team_id = ${teamId}`,
    sql`p.type = ${filter.type}`,
    sql`p.timestamp >= ${dayStart(filter.from, filter.timeZone)}`,
    sql`p.timestamp <= ${dayStart(filter.to, filter.timeZone)} + interval '1 day'`,
  ];
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

function where(teamId: number, filter: PointFilter, options: { zeroFilter: boolean }): SQL {
  return and([...rowConditions(teamId, filter), ...gridConditions({ x: X, y: Y, width: WIDTH }, filter, options)]);
}

/**
 * The points the grid queries read (the hidden zero point left out): gx, gy, gh (the viewport's height), cx (x across
 * the viewport, in hundredths), fixed and distinct_id (null unless counted).
 */
function onGrid(teamId: number, filter: PointFilter, aggregation: Aggregation): SQL {
  // The visitor only when they are counted: a column fewer to read and keep.
  const visitor = aggregation === 'unique_visitors' ? sql`p.distinct_id` : sql`null::text`;
  return sql`select ${X} as gx, ${Y} as gy, ${HEIGHT} as gh, p.target_fixed as fixed, ${visitor} as distinct_id, ${relativeXCents(X, WIDTH)} as cx
    from heatmap_points p where ${where(teamId, filter, { zeroFilter: true })}`;
}

const counted = (aggregation: Aggregation, distinctId: SQL) => (aggregation === 'unique_visitors' ? sql`count(distinct ${distinctId})` : sql`count(*)`);

/** The cells of `g` (onGrid) with their counts, hottest first; `limit` from `offset`. */
const cells = (aggregation: Aggregation, page: { limit: number; offset: number }) =>
  sql`select ${counted(aggregation, sql`g.distinct_id`)}::int as count, (g.gy * ${SCALE})::int as pointer_y, g.cx::float8 / 100 as pointer_relative_x,
      g.fixed as pointer_target_fixed
    from g group by g.fixed, g.cx, g.gy order by 1 desc, g.cx, g.gy, g.fixed limit ${page.limit} offset ${page.offset}`;

interface Cell {
  count: number;
  pointer_y: number;
  pointer_relative_x: number;
  pointer_target_fixed: boolean;
}

export function createHeatmapDataRepository(db: Db) {
  return {
    /** Compiles the URL pattern's regex first, so one Postgres rejects is a 400 rather than a failed query. */
    assertCompiles: (pattern: string) => assertPatternsCompile(db, [pattern]),

    /** Points grouped on the grid, hottest first; `limit` rows from `offset`. */
    async points(teamId: number, filter: PointFilter, aggregation: Aggregation, page: { limit: number; offset: number }) {
      return queryRows<Cell>(db, sql`with g as (${onGrid(teamId, filter, aggregation)}) ${cells(aggregation, page)}`);
    },

    /**
     * The points as points() answers them and, in the same statement, the fold: how many of the points that are not on
     * fixed elements lie below the first screen, and the median viewport height. The two read the page's index range
     * each (`not materialized`): cheaper than one scan kept in a work table for both.
     */
    async pointsAndFold(teamId: number, filter: PointFilter, aggregation: Aggregation, page: { limit: number; offset: number }) {
      // One row per cell, each with the fold; one row without a cell when there is none.
      const rows = await queryRows<{ total: number; below: number; median: number | null } & { [K in keyof Cell]: Cell[K] | null }>(
        db,
        sql`with g as not materialized (${onGrid(teamId, filter, aggregation)}),
            fold as (select count(*) filter (where not g.fixed)::int as total, count(*) filter (where g.gy > g.gh and not g.fixed)::int as below,
                       round(percentile_cont(0.5) within group (order by g.gh * ${SCALE}))::int as median
                     from g)
          select fold.total, fold.below, fold.median, c.count, c.pointer_y, c.pointer_relative_x, c.pointer_target_fixed
          from fold left join (${cells(aggregation, page)}) c on true
          order by c.count desc, c.pointer_relative_x, c.pointer_y, c.pointer_target_fixed`,
      );
      const { total, below, median } = rows[0]!;
      const points: Cell[] = [];
      for (const row of rows) {
        if (row.count !== null) points.push({ count: row.count, pointer_y: row.pointer_y!, pointer_relative_x: row.pointer_relative_x!, pointer_target_fixed: row.pointer_target_fixed! });
      }
      return { points, fold: { total, below, median } };
    },

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
