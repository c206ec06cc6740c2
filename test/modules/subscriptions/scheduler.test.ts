import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { DUE_BATCH } from '../../../src/modules/subscriptions/jobs.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';

/** The scheduler's pass over a burst of due subscriptions (bench/subscriptions: 10,000 due in the same minute). */
describe('subscriptions scheduler', () => {
  let ctx: TestContext;
  let owner: Tenant;

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await factories(ctx).tenant();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('queues every due subscription in one pass, page after page, each slot once', async () => {
    const count = 2 * DUE_BATCH + 7;
    // Half of them due at the same instant (a 09:00 burst: pages end among equal dates), the others over the last
    // hour in an order unlike their ids'.
    const due = await queryRows<{ id: number }>(
      ctx.database.db,
      sql`insert into subscriptions (team_id, recordings_query, target_type, target_value, frequency, start_date, next_delivery_date, created_by_id)
          select ${owner.teamId}::int, '{}'::jsonb, 'webhook', 'https://hooks.example.com/' || i, 'daily', now() - interval '1 day',
                 case when i % 2 = 0 then date_trunc('minute', now()) - interval '1 minute' else now() - ((i * 7919) % 3600) * interval '1 second' end,
                 ${owner.user.id}::int
            from generate_series(1, ${count}::int) as i
          returning id`,
    );
    // Not due: disabled, deleted, and one past the scheduler's 15-minute look-ahead.
    await ctx.database.db.execute(
      sql`insert into subscriptions (team_id, recordings_query, target_type, target_value, frequency, start_date, next_delivery_date, enabled, deleted)
          values (${owner.teamId}::int, '{}'::jsonb, 'webhook', 'https://hooks.example.com/off', 'daily', now(), now() - interval '1 minute', false, false),
                 (${owner.teamId}::int, '{}'::jsonb, 'webhook', 'https://hooks.example.com/gone', 'daily', now(), now() - interval '1 minute', true, true),
                 (${owner.teamId}::int, '{}'::jsonb, 'webhook', 'https://hooks.example.com/later', 'daily', now(), now() + interval '1 hour', true, false)`,
    );

    expect(await ctx.services.enqueueDueDeliveries()).toBe(count);
    const queued = await queryRows<{ id: string; jobs: number }>(
      ctx.database.db,
      sql`select payload->>'subscriptionId' as id, count(*)::int as jobs from jobs where kind = 'subscription.deliver' and status = 'queued' group by 1`,
    );
    expect(queued.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(due.map((r) => r.id).sort((a, b) => a - b));
    expect(queued.every((r) => r.jobs === 1)).toBe(true);
    // Another pass finds every slot queued already.
    expect(await ctx.services.enqueueDueDeliveries()).toBe(0);
  });
});
