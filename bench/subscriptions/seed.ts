/**
 * `count` email subscriptions straight into `subscriptions`, as the API leaves them: a daily recordings report
 * (`recordings_query` {filter_test_accounts: false}, the cheapest report: no image to render) of the team, one
 * recipient each, s<id>@bench.test, all starting at `due` and due then (next_delivery_date = due), so the next slot
 * after a delivery is a day later. Made by the team's admin.
 */
import pg from 'pg';

export async function seedSubscriptions(url: string, teamId: number, userId: number, count: number, due: Date): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ id: number }>(
      `insert into subscriptions (team_id, recordings_query, title, target_type, target_value, frequency, interval, start_date, timezone, next_delivery_date, created_by_id)
       select $1::int, '{"filter_test_accounts": false}'::jsonb, 'Bench report ' || i, 'email', '', 'daily', 1, $2::timestamptz, 'UTC', $2::timestamptz, $3::int
         from generate_series(1, $4::int) as i
       returning id`,
      [teamId, due.toISOString(), userId, count],
    );
    await client.query(`update subscriptions set target_value = 's' || id || '@bench.test' where id = any($1::int[])`, [rows.map((r) => r.id)]);
    await client.query('commit');
    await client.query('vacuum (analyze) subscriptions');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
