/**
 * Captured events straight into `events` (as capture leaves them), for a team: `count` events over the last 30 days in
 * time order, 60% $pageview, 25% $autocapture, 10% $pageleave, 5% signed_up; 50 events a visitor, 25 a session, on
 * 200 pages of a shop; properties as posthog-js sends the common ones (about 400 bytes a row). One visitor in five
 * is a person (persons + person_distinct_ids), so the person join has work to do. Deterministic (setseed).
 */
import pg from 'pg';

export async function seedEvents(url: string, teamId: number, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select setseed(0.15)');
    const chunk = 100_000;
    for (let from = 0; from < count; from += chunk) {
      await client.query(
        `insert into events (team_id, uuid, event, distinct_id, timestamp, properties, session_id, window_id, current_url)
         select $1::int, gen_random_uuid(), name, 'u' || $1 || '-' || (i / 50), ts,
                jsonb_build_object(
                  '$current_url', page, '$host', 'shop.example.com', '$pathname', '/p/' || (i % 200),
                  '$browser', case when r < 0.6 then 'Chrome' when r < 0.8 then 'Safari' else 'Firefox' end,
                  '$browser_version', 120 + (i % 7), '$os', case when r < 0.5 then 'Windows' when r < 0.8 then 'Mac OS X' else 'iOS' end,
                  '$device_type', case when r < 0.7 then 'Desktop' else 'Mobile' end, '$lib', 'web', '$lib_version', '1.200.0',
                  '$screen_height', 1080, '$screen_width', 1920, '$referrer', '$direct', '$session_id', 's' || $1 || '-' || (i / 25),
                  '$window_id', 'w' || $1 || '-' || (i / 25), 'plan', case when i % 3 = 0 then 'free' else 'pro' end),
                's' || $1 || '-' || (i / 25), 'w' || $1 || '-' || (i / 25), page
           from generate_series($2::int + 1, least($2::int + ${chunk}, $3::int)) as i,
                lateral (select random() as r, 'https://shop.example.com/p/' || (i % 200) as page,
                                now() - ($3::int - i) * interval '30 days' / $3::int as ts,
                                case when i % 20 < 12 then '$pageview' when i % 20 < 17 then '$autocapture' when i % 20 < 19 then '$pageleave' else 'signed_up' end as name) as draw`,
        [teamId, from, count],
      );
    }
    // One visitor in five identified: a person with an email.
    await client.query(
      `with visitors as (select distinct distinct_id from events where team_id = $1 and (substring(distinct_id from '[0-9]+$'))::int % 5 = 0),
            made as (insert into persons (uuid, team_id, properties, is_identified)
                     select gen_random_uuid(), $1, jsonb_build_object('email', distinct_id || '@example.com'), true from visitors
                     returning id, properties->>'email' as email)
       insert into person_distinct_ids (team_id, distinct_id, person_id) select $1, split_part(email, '@', 1), id from made`,
      [teamId],
    );
  } finally {
    await client.end();
  }
}
