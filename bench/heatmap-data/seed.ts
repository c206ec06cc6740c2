/**
 * Heatmap points straight into heatmap_points, and their pages into heatmap_pages (as capture leaves them), for a team:
 * `count` points over the last 30 days in time order (the heap is in capture's order), spread evenly over 200 pages of
 * a shop, one in ten of them reported with a trailing slash. 80% clicks, 12% mouse moves, 5% scroll depth, 2% dead
 * clicks and 1% rage clicks; 5% on fixed elements. Viewports are the common ones (375, 390, 768, 1024, 1280, 1440 and
 * 1920 px wide, desktops most), and each page has 12 hot spots (at a fraction of the width and a depth of up to 3,000
 * px) that the points scatter around (about 40 px either way). A session has 20 points, a visitor three sessions.
 * Deterministic: the same count gives the same rows (setseed).
 */
import pg from 'pg';
import { PgDialect } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { gridOf, packedPointSql, pageKeyOf } from '../../src/db/schema/index.js';

const inline = (fragment: ReturnType<typeof sql>) => new PgDialect().sqlToQuery(fragment).sql;
const URL_KEY = inline(pageKeyOf(sql.raw('url')));
const GRID_WIDTH = gridOf('viewport_width');
const PACKED = inline(packedPointSql());

export const PAGES = 200;
export const DAYS = 30;
/** The page the benchmark reads: the 8th of the 200, without the slash that one in ten of its points has. */
export const pageUrl = (page: number) => `https://shop.example.com/p/${page}`;

export async function seedPoints(url: string, teamId: number, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select setseed(0.42)');
    // One statement per million rows, so a long seed shows progress and no statement holds everything at once.
    const chunk = 1_000_000;
    for (let from = 0; from < count; from += chunk) {
      await client.query(
        `with rows as (
           select gen_random_uuid() as event_uuid, now() - ($3::int - i) * interval '${DAYS} days' / $3::int as timestamp,
                  't' || $1 || '-s' || (i / 20) as session_id, 't' || $1 || '-u' || (i / 60) as distinct_id,
                  '${pageUrl(0).slice(0, -1)}' || page || case when (i / ${PAGES}) % 10 = 0 then '/' else '' end as url,
                  case when t < 0.80 then 'click' when t < 0.92 then 'mousemove' when t < 0.97 then 'scrolldepth' when t < 0.99 then 'deadclick' else 'rageclick' end as type,
                  greatest(0, least(vw, round(((page * 37 + spot * 101) % 100) / 100.0 * vw + 40 * n1)))::int as x,
                  greatest(0, round(((page * 53 + spot * 211) % 3000) + 40 * n2))::int as y,
                  f < 0.05 as target_fixed, vw as viewport_width, vh as viewport_height
             from generate_series($2::int + 1, least($2::int + ${chunk}, $3::int)) as i,
                  lateral (select i % ${PAGES} as page, floor(random() * 12)::int as spot, random() as t, random() as f, random() as v,
                                  -- two standard normal deviates (Box-Muller)
                                  sqrt(-2 * ln(1 - random())) as r, 2 * pi() * random() as a) as draw,
                  lateral (select r * cos(a) as n1, r * sin(a) as n2,
                                  case when v < 0.25 then 375 when v < 0.35 then 390 when v < 0.45 then 768 when v < 0.55 then 1024
                                       when v < 0.75 then 1280 when v < 0.90 then 1440 else 1920 end as vw,
                                  case when v < 0.25 then 667 when v < 0.35 then 844 when v < 0.45 then 1024 when v < 0.55 then 768
                                       when v < 0.75 then 800 when v < 0.90 then 900 else 1080 end as vh) as shape
         )
         -- What capture works out in Node (packPoint and the page's key), in SQL here.
         insert into heatmap_points (team_id, event_uuid, timestamp, session_id, distinct_id, url, type, x, y, target_fixed, viewport_width, viewport_height,
           url_key, grid_width, packed)
         select $1::int, event_uuid, timestamp, session_id, distinct_id, url, type, x, y, target_fixed, viewport_width, viewport_height,
                ${URL_KEY}, ${GRID_WIDTH}, ${PACKED}
           from rows`,
        [teamId, from, count],
      );
    }
    // The pages, as capture adds them with the points.
    await client.query('insert into heatmap_pages (team_id, url) select distinct team_id, url from heatmap_points where team_id = $1 on conflict do nothing', [teamId]);
  } finally {
    await client.end();
  }
}
