import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { TEST_DATABASE_URL } from '../../helpers/database.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { postgresUrlOf, sleep, waitFor } from '../../helpers/jobs.js';
import { spawnEntry } from '../../helpers/process.js';
import { receiver, type Sub } from './fixtures.js';

interface DeliveryRow {
  id: string;
  status: string;
  job_id: number | null;
  recipient_results: { recipient: string; status: string }[];
  error: unknown;
}

/**
 * Postgres only: the worker is a process of its own, and an in-memory PGlite cannot be shared with another process
 * (nor can a PGlite data directory be opened by two processes at once).
 */
describe.runIf(TEST_DATABASE_URL)('a worker process killed mid-delivery', { timeout: 60_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let dir: string;
  let child: ChildProcess | undefined;
  let survivor: Worker | undefined;

  beforeAll(async () => {
    ctx = await createTestContext({ RENDER_ALLOWED_HOSTS: '127.0.0.1' });
    owner = await factories(ctx).tenant();
    hook = await receiver();
    dir = await mkdtemp(path.join(tmpdir(), 'burrow-kill-delivery-'));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await survivor?.stop({ timeoutMs: 1000 });
    await hook?.close();
    await ctx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('leaves the delivery to the next worker, which sends it once and records it once', async () => {
    const base = `/api/projects/${owner.teamId}/subscriptions`;
    const sub = ok<Sub>(
      await owner.call('POST', `${base}/`, {
        recordings_query: { filter_test_accounts: false },
        title: 'Checkout sessions',
        target_type: 'webhook',
        target_value: `${hook.url}/hook`,
        frequency: 'daily',
        interval: 1,
        start_date: '2030-01-07T09:00:00Z',
      }),
      201,
    );
    expect(sub.next_delivery_date).toBe('2030-01-07T09:00:00Z');
    const [due] = await queryRows<{ slot: string }>(
      ctx.database.db,
      sql`update subscriptions set next_delivery_date = date_trunc('second', now()) - interval '1 minute' where id = ${sub.id} returning next_delivery_date::text as slot`,
    );
    expect(await ctx.services.enqueueDueDeliveries()).toBe(1);
    // The first POST is held open, unanswered: the worker is killed while it sends. Later ones are answered 200.
    hook.answers.push(0);

    // `npm run worker`'s entry point, with a short lease.
    const spawned = spawnEntry('src/worker.ts', {
      DATABASE_URL: await postgresUrlOf(ctx.database),
      DATA_DIR: path.join(dir, 'data'),
      BOOTSTRAP: 'false',
      RENDER_ALLOWED_HOSTS: '127.0.0.1',
      JOB_POLL_INTERVAL_MS: '50',
      JOB_LEASE_SECONDS: '2',
    });
    child = spawned.child;
    await waitFor(() => {
      if (child!.exitCode !== null) throw new Error(`the worker exited:\n${spawned.output()}`);
      return hook.received.length > 0;
    }, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; worker log:\n${spawned.output()}`);
    });

    // Mid-send: the delivery is `starting`, held by a running job of the worker's.
    const deliveries = () => queryRows<DeliveryRow>(ctx.database.db, sql`select id, status, job_id, recipient_results, error from subscription_deliveries where subscription_id = ${sub.id}`);
    const [started] = await deliveries();
    expect(started).toMatchObject({ status: 'starting' });
    const [holder] = await queryRows<{ id: number; status: string; attempts: number }>(ctx.database.db, sql`select id::integer as id, status, attempts from jobs where id = ${started!.job_id}`);
    expect(holder).toMatchObject({ status: 'running', attempts: 1 });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.status).toBeNull();

    // A second worker runs the job again once the dead one's lease has expired, and sends the report again.
    survivor = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 2, pollIntervalMs: 50, leaseMs: 5000 } });
    const [completed] = await waitFor(async () => {
      await sleep(100);
      const rows = await deliveries();
      return rows.every((row) => row.status !== 'starting') && rows;
    }, 30_000);
    // The schedule moves on just after the delivery is recorded; then no delivery job is left to run.
    await waitFor(async () => {
      await sleep(100);
      const [row] = await queryRows<{ next: string }>(ctx.database.db, sql`select next_delivery_date::text as next from subscriptions where id = ${sub.id}`);
      const [pending] = await queryRows<{ n: number | string }>(ctx.database.db, sql`select count(*) as n from jobs where kind = 'subscription.deliver' and status in ('queued', 'running')`);
      return row!.next !== due!.slot && Number(pending!.n) === 0;
    }, 30_000);
    await sleep(300);

    // One delivery row for the slot, completed by the job that started it, on its second attempt.
    const rows = await deliveries();
    expect(rows).toHaveLength(1);
    expect(completed).toMatchObject({ id: started!.id, status: 'completed', job_id: holder!.id, error: null, recipient_results: [{ recipient: `${hook.url}/hook`, status: 'success' }] });
    const [finished] = await queryRows<{ status: string; attempts: number; last_error: string | null }>(ctx.database.db, sql`select status, attempts, last_error from jobs where id = ${holder!.id}`);
    expect(finished).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(finished!.last_error).toMatch(/stopped responding/);
    // Two POSTs of the same delivery: the one cut off by the kill, never answered, and one answered 200.
    expect(hook.received.map((r) => r.status)).toEqual([null, 200]);
    expect(hook.received.map((r) => (JSON.parse(r.body) as { delivery_id: string }).delivery_id)).toEqual([started!.id, started!.id]);
    // next_delivery_date moved on from the slot once: to the rule's next occurrence after it.
    expect(ok<Sub>(await owner.call('GET', `${base}/${sub.id}/`)).next_delivery_date).toBe('2030-01-07T09:00:00Z');
    const [starting] = await queryRows<{ n: number | string }>(ctx.database.db, sql`select count(*) as n from subscription_deliveries where status = 'starting'`);
    expect(Number(starting!.n)).toBe(0);
  });
});
