import { createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { expectError, notFound, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { type Body, factories, type Tenant } from '../../helpers/factories.js';
import { sleep, waitFor } from '../../helpers/jobs.js';
import { insertRecording, receiver, type Sub } from './fixtures.js';

describe('subscription delivery (scheduler, delivery rows, webhook)', () => {
  let ctx: TestContext;
  let owner: Tenant;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let workers: Worker[] = [];
  let key: string;

  const startWorker = async (settings: { concurrency?: number; leaseMs?: number } = {}) => {
    const worker = await startAppWorker({
      queue: ctx.services.queue,
      jobs: ctx.services.jobs,
      log: pino({ level: 'silent' }),
      settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 30_000, ...settings },
    });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    ctx = await createTestContext({ RENDER_ALLOWED_HOSTS: '127.0.0.1', SITE_URL: 'https://burrow.example.com' });
    owner = await factories(ctx).tenant();
    hook = await receiver();
    // What a receiver computes from SECRET_KEY (README): the signing key, then the body's HMAC with it.
    key = createHmac('sha256', await ctx.services.instance.secretKey()).update('burrow-subscription-webhook').digest('hex');
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
    hook.received.length = 0;
    hook.answers.length = 0;
  });
  afterAll(async () => {
    await hook?.close();
    await ctx?.close();
  });

  const base = () => `/api/projects/${owner.teamId}/subscriptions`;
  const create = async (extra: Record<string, unknown> = {}) =>
    ok<Sub>(
      await owner.call('POST', `${base()}/`, {
        recordings_query: { filter_test_accounts: false },
        title: 'Checkout sessions',
        target_type: 'webhook',
        target_value: `${hook.url}/hook`,
        frequency: 'daily',
        interval: 1,
        start_date: '2030-01-07T09:00:00Z',
        ...extra,
      }),
      201,
    );
  /** Makes the subscription due: its next delivery a minute ago. */
  const makeDue = async (id: number): Promise<string> => {
    const [row] = await queryRows<{ next: string }>(ctx.database.db, sql`update subscriptions set next_delivery_date = date_trunc('second', now()) - interval '1 minute' where id = ${id} returning next_delivery_date::text as next`);
    return row!.next;
  };
  const deliveries = async (id: number) => ok<{ next: string | null; results: Body[] }>(await owner.call('GET', `${base()}/${id}/deliveries/`));
  // Polled every 100 ms: a delivery that retries takes seconds, and the key's request rate is limited.
  const finished = (id: number, n = 1) =>
    waitFor(async () => {
      await sleep(100);
      const { results } = await deliveries(id);
      return results.filter((d) => d.status !== 'starting').length >= n && results;
    }, 20_000);
  /** The subscription once its next_delivery_date is past `slot` (Postgres text). */
  const movedOn = (id: number, slot: string) =>
    waitFor(async () => {
      await sleep(50);
      const row = ok<Body>(await owner.call('GET', `${base()}/${id}/`));
      return Date.parse(row.next_delivery_date as string) > Date.parse(slot.replace(' ', 'T').replace(/\+00$/, 'Z')) && row;
    });
  const recording = (sessionId: string, minutesAgo: number, distinctId = 'alice') => insertRecording(ctx, owner.teamId, sessionId, minutesAgo, distinctId);

  it('delivers a due slot once, signed, with the new recordings, and moves next_delivery_date on', async () => {
    await recording('before-subscription', 60 * 24);
    const sub = await create();
    await recording('rec-1', 0, 'alice');
    await recording('rec-2', 0, 'bob');
    const slot = await makeDue(sub.id);
    // Two scheduler passes before any worker runs: one job for the slot.
    expect(await ctx.services.enqueueDueDeliveries()).toBe(1);
    expect(await ctx.services.enqueueDueDeliveries()).toBe(0);
    await startWorker();
    const [delivery] = await finished(sub.id);
    expect(delivery).toMatchObject({
      subscription: sub.id,
      trigger_type: 'scheduled',
      status: 'completed',
      target_type: 'webhook',
      target_value: `${hook.url}/hook`,
      recipient_results: [{ recipient: `${hook.url}/hook`, status: 'success' }],
      exported_asset_ids: [],
      error: null,
      change_summary: null,
    });
    expect(delivery!.scheduled_at).toBe(new Date(slot.replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString().replace('.000Z', 'Z'));
    expect(delivery!.finished_at).not.toBeNull();

    expect(hook.received).toHaveLength(1);
    const [post] = hook.received;
    expect(post!.signature).toBe(`sha256=${createHmac('sha256', key).update(post!.body).digest('hex')}`);
    const report = JSON.parse(post!.body) as Body;
    expect(report).toMatchObject({
      event: 'subscription_report',
      delivery_id: delivery!.id,
      title: 'Burrow recordings report - Checkout sessions',
      subscription: { id: sub.id, title: 'Checkout sessions', summary: 'sent every day', url: `https://burrow.example.com/project/${owner.teamId}/subscriptions/${sub.id}` },
      resource: { type: 'recordings' },
      assets: [],
      recordings: { total: 2, total_is_lower_bound: false, more: 0 },
    });
    const shown = (report.recordings as { shown: Body[] }).shown;
    expect(shown.map((r) => r.session_id).sort()).toEqual(['rec-1', 'rec-2']);
    expect(shown[0]).toMatchObject({ duration: 90, start_url: 'https://shop.example.com/checkout', click_count: 4, keypress_count: 2, console_error_count: 1 });
    expect(shown.find((r) => r.session_id === 'rec-1')).toMatchObject({ person: 'alice', player_url: `https://burrow.example.com/project/${owner.teamId}/replay/rec-1` });

    // The schedule moves on just after the delivery is recorded.
    const after = await movedOn(sub.id, slot);
    expect(Date.parse(after.next_delivery_date as string)).toBeGreaterThan(Date.now() + 14 * 60_000);
    // The slot is not due any more: the scheduler queues nothing, and a stray job for it does nothing.
    expect(await ctx.services.enqueueDueDeliveries()).toBe(0);
    await ctx.services.queue.enqueue('subscription.deliver', { subscriptionId: sub.id, slot });
    await sleep(300);
    expect(hook.received).toHaveLength(1);
    expect((await deliveries(sub.id)).results).toHaveLength(1);
    ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true }));
  });

  it('the next report covers only what started since the last delivered slot', async () => {
    const sub = await create();
    await recording('old-1', 0);
    await makeDue(sub.id);
    await ctx.services.enqueueDueDeliveries();
    await startWorker();
    await finished(sub.id);
    await recording('new-1', 0);
    // The second slot: its period starts when the first delivery did.
    await ctx.database.db.execute(sql`update subscriptions set next_delivery_date = now() + interval '1 minute' where id = ${sub.id}`);
    await ctx.services.enqueueDueDeliveries();
    const results = await finished(sub.id, 2);
    expect(results.map((d) => d.status)).toEqual(['completed', 'completed']);
    const reports = hook.received.map((r) => JSON.parse(r.body) as { recordings: { shown: Body[] } });
    expect(reports.map((r) => r.recordings.shown.map((s) => s.session_id))).toEqual([['old-1'], ['new-1']]);
    ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true }));
  });

  it('two workers and repeated scheduler passes never deliver the same slot twice', async () => {
    const subs = await Promise.all([create(), create(), create()]);
    for (const sub of subs) await makeDue(sub.id);
    hook.answers.push(200, 200, 200);
    await Promise.all([startWorker(), startWorker()]);
    // Scheduler passes while the workers deliver, and stray jobs for the same slots without the dedupe key.
    for (let i = 0; i < 5; i++) {
      await ctx.services.enqueueDueDeliveries();
      for (const sub of subs) {
        const [row] = await queryRows<{ next: string }>(ctx.database.db, sql`select next_delivery_date::text as next from subscriptions where id = ${sub.id}`);
        await ctx.services.queue.enqueue('subscription.deliver', { subscriptionId: sub.id, slot: row!.next });
      }
      await sleep(20);
    }
    for (const sub of subs) await finished(sub.id);
    await sleep(500);
    for (const sub of subs) {
      const { results } = await deliveries(sub.id);
      expect(results).toHaveLength(1);
      expect(results[0]!.status).toBe('completed');
    }
    expect(hook.received).toHaveLength(3);
    for (const sub of subs) ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true }));
  });

  it('a target that answers 503 is retried with backoff; one that answers 400 records a failed delivery and the schedule moves on', async () => {
    const flaky = await create();
    hook.answers.push(503);
    await makeDue(flaky.id);
    await ctx.services.enqueueDueDeliveries();
    await startWorker();
    const [delivered] = await finished(flaky.id);
    expect(delivered).toMatchObject({ status: 'completed', error: null });
    expect(hook.received).toHaveLength(2);
    ok(await owner.call('PATCH', `${base()}/${flaky.id}/`, { deleted: true }));

    const broken = await create({ target_value: `${hook.url}/refuses` });
    hook.answers.push(400);
    const slot = await makeDue(broken.id);
    await ctx.services.enqueueDueDeliveries();
    const [failed] = await finished(broken.id);
    expect(failed).toMatchObject({
      status: 'failed',
      error: { message: 'Webhook answered 400' },
      recipient_results: [{ recipient: `${hook.url}/refuses`, status: 'failed', error: 'Webhook answered 400' }],
    });
    expect((failed!.content_snapshot as Body).title).toBe('Burrow recordings report - Checkout sessions');
    await movedOn(broken.id, slot);
    ok(await owner.call('PATCH', `${base()}/${broken.id}/`, { deleted: true }));
  });

  it('follows redirects hop by hop through the URL guard; a target it refuses disables the subscription', async () => {
    const moved = await create({ target_value: `${hook.url}/moved/hook` });
    await makeDue(moved.id);
    await ctx.services.enqueueDueDeliveries();
    await startWorker();
    expect((await finished(moved.id))[0]).toMatchObject({ status: 'completed' });
    expect(hook.received.map((r) => r.path)).toEqual(['/hook']);

    // 127.0.0.1 is allowed, the name localhost is not: the second hop is refused, nothing reaches it.
    const sneaky = await create({ target_value: `${hook.url}/to-localhost` });
    await makeDue(sneaky.id);
    await ctx.services.enqueueDueDeliveries();
    const [refused] = await finished(sneaky.id);
    expect(refused).toMatchObject({ status: 'failed' });
    expect((refused!.error as { message: string }).message).toMatch(/^Invalid webhook URL: .*localhost/);
    expect(hook.received).toHaveLength(1);
    // A target the guard refuses is broken: the subscription is disabled (its creator told by email, when configured).
    expect(await waitFor(async () => ok<Sub>(await owner.call('GET', `${base()}/${sneaky.id}/`)).enabled === false)).toBe(true);
    expect(ok<Sub>(await owner.call('GET', `${base()}/${moved.id}/`)).enabled).toBe(true);
    for (const sub of [moved, sneaky]) ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true }));
  });

  it('a disabled or deleted subscription is not scheduled', async () => {
    const disabled = await create({ enabled: false });
    const deleted = await create();
    ok(await owner.call('PATCH', `${base()}/${deleted.id}/`, { deleted: true }));
    await makeDue(disabled.id);
    await makeDue(deleted.id);
    expect(await ctx.services.enqueueDueDeliveries()).toBe(0);
  });

  it('test-delivery/: 202 and a manual delivery now that leaves the schedule alone; 409 while one is queued or when disabled, 404 when deleted', async () => {
    const sub = await create();
    const url = `${base()}/${sub.id}/test-delivery/`;
    const accepted = await owner.call('POST', url);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.body).toBe('');
    // Queued and not yet run (no worker): a second one is refused.
    const busy = await owner.call('POST', url);
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ detail: 'Delivery already in progress' });
    await startWorker();
    const [manual] = await finished(sub.id);
    expect(manual).toMatchObject({ trigger_type: 'manual', status: 'completed', scheduled_at: null });
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ delivery_id: manual!.id, resource: { type: 'recordings' } });
    expect(ok<Sub>(await owner.call('GET', `${base()}/${sub.id}/`)).next_delivery_date).toBe(sub.next_delivery_date);

    ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { enabled: false }));
    const disabled = await owner.call('POST', url);
    expect(disabled.statusCode).toBe(409);
    expect(disabled.json()).toMatchObject({ detail: 'Subscription is disabled. Re-enable it before sending a test delivery.' });
    ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true, enabled: true }));
    expectError(await owner.call('POST', url), 404, notFound());
    const other = await factories(ctx).tenant();
    expectError(await other.call('POST', `/api/projects/${other.teamId}/subscriptions/${sub.id}/test-delivery/`), 404, notFound());
  });

  it('a delivery left starting by an attempt that will not be retried ends skipped: the rule was edited, or the subscription disabled', async () => {
    const edited = await create({ target_value: `${hook.url}/edited` });
    const disabled = await create({ target_value: `${hook.url}/disabled` });
    const slots = { edited: await makeDue(edited.id), disabled: await makeDue(disabled.id) };
    hook.answers.push(503, 503);
    expect(await ctx.services.enqueueDueDeliveries()).toBe(2);
    await startWorker();
    // Both first attempts failed for now: their rows are `starting` and their jobs wait for a retry (1-2 s away).
    await waitFor(() => hook.received.length === 2);
    ok(await owner.call('PATCH', `${base()}/${edited.id}/`, { frequency: 'weekly' }));
    ok(await owner.call('PATCH', `${base()}/${disabled.id}/`, { enabled: false }));

    const [skippedEdit] = await finished(edited.id);
    expect(skippedEdit).toMatchObject({ status: 'skipped', error: { message: "The subscription's schedule changed before this delivery was sent" }, recipient_results: [] });
    expect(skippedEdit!.finished_at).not.toBeNull();
    const [skippedOff] = await finished(disabled.id);
    expect(skippedOff).toMatchObject({ status: 'skipped', error: { message: 'The subscription is disabled' } });
    expect(hook.received.map((r) => r.path).sort()).toEqual(['/disabled', '/edited']);
    // The edit moved the schedule, and nothing moved it again; a disabled subscription's slot stays.
    expect(ok<Sub>(await owner.call('GET', `${base()}/${edited.id}/`)).next_delivery_date).toBe('2030-01-07T09:00:00Z');
    const [stored] = await queryRows<{ next: string }>(ctx.database.db, sql`select next_delivery_date::text as next from subscriptions where id = ${disabled.id}`);
    expect(stored!.next).toBe(slots.disabled);
    for (const sub of [edited, disabled]) ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true }));
  });

  it("a job whose worker died on its last attempt leaves its delivery to the scheduler's next pass, which fails it (and moves a slot on)", async () => {
    const scheduled = await create({ target_value: `${hook.url}/scheduled` });
    const manual = await create({ target_value: `${hook.url}/manual` });
    const slot = await makeDue(scheduled.id);
    // No scheduler pass while the first worker runs (it would queue a job of four attempts for the slot, which could
    // hold the delivery instead): the queued pass waits, and a new one would wait for the two jobs below.
    await ctx.database.db.execute(sql`update jobs set run_at = now() + interval '1 hour' where kind = 'subscriptions.schedule' and status = 'queued'`);
    // One attempt each, and a target that never answers: the worker is stopped mid-send and does not come back.
    hook.answers.push(0, 0);
    const jobIds = [
      (await ctx.services.queue.enqueue('subscription.deliver', { subscriptionId: scheduled.id, slot }, { maxAttempts: 1 })).id,
      (await ctx.services.queue.enqueue('subscription.deliver', { subscriptionId: manual.id, manual: { key: 'dies' } }, { maxAttempts: 1 })).id,
    ];
    const dying = await startWorker({ concurrency: 2, leaseMs: 1000 });
    await waitFor(() => hook.received.length === 2);
    await dying.stop({ timeoutMs: 50 });
    workers = workers.filter((w) => w !== dying);
    expect((await deliveries(scheduled.id)).results.map((d) => d.status)).toEqual(['starting']);
    const busy = await owner.call('POST', `${base()}/${manual.id}/test-delivery/`);
    expect(busy.statusCode).toBe(409);

    // Past the lease, the next worker's claim fails the jobs (their last attempt) without running them again.
    await startWorker();
    await waitFor(async () => {
      await sleep(100);
      const jobs = await queryRows<{ status: string }>(ctx.database.db, sql`select status from jobs where id in (${jobIds[0]}, ${jobIds[1]})`);
      return jobs.every((j) => j.status === 'failed');
    }, 20_000);
    await ctx.services.enqueueDueDeliveries();
    const [failed] = await finished(scheduled.id);
    expect(failed).toMatchObject({ status: 'failed', trigger_type: 'scheduled' });
    expect((failed!.error as { message: string }).message).toMatch(/^The delivery was not finished: Worker .+ stopped responding; its lease expired at /);
    const [failedManual] = await finished(manual.id);
    expect(failedManual).toMatchObject({ status: 'failed', trigger_type: 'manual' });
    // The pass queued the slot again; that job found the delivery finished and moved the schedule on.
    expect((await movedOn(scheduled.id, slot)).next_delivery_date).toBe('2030-01-07T09:00:00Z');
    expect((await deliveries(scheduled.id)).results).toHaveLength(1);
    // A test delivery is no longer blocked by the dead one.
    expect((await owner.call('POST', `${base()}/${manual.id}/test-delivery/`)).statusCode).toBe(202);
    expect((await finished(manual.id, 2)).map((d) => d.status)).toEqual(['completed', 'failed']);
    expect(hook.received.map((r) => r.status)).toEqual([null, null, 200]);
    for (const sub of [scheduled, manual]) ok(await owner.call('PATCH', `${base()}/${sub.id}/`, { deleted: true }));
  });

  it('deliveries/: newest first in cursor pages of 50, ?status= filters, one by id; another team sees 404', async () => {
    const sub = await create();
    await ctx.database.db.execute(sql`insert into subscription_deliveries (id, team_id, subscription_id, idempotency_key, trigger_type, scheduled_at, target_type, target_value, status, created_at, last_updated_at)
      select gen_random_uuid(), ${owner.teamId}, ${sub.id}, 'scheduled:' || i, 'scheduled', now(), 'webhook', 'https://x.example/', case when i % 5 = 0 then 'failed' else 'completed' end,
             now() - i * interval '1 minute', now()
        from generate_series(1, 60) as i`);
    const first = await deliveries(sub.id);
    expect(first.results).toHaveLength(50);
    expect(first.results[0]!.idempotency_key).toBe('scheduled:1');
    expect(first.next).toMatch(new RegExp(`^https://burrow.example.com/api/projects/${owner.teamId}/subscriptions/${sub.id}/deliveries/\\?cursor=`));
    const second = ok<{ next: string | null; results: Body[] }>(await owner.call('GET', first.next!.replace('https://burrow.example.com', '')));
    expect(second.results.map((d) => d.idempotency_key)).toEqual(Array.from({ length: 10 }, (_, i) => `scheduled:${51 + i}`));
    expect(second.next).toBeNull();
    const failedOnly = ok<{ results: Body[] }>(await owner.call('GET', `${base()}/${sub.id}/deliveries/?status=failed`));
    expect(failedOnly.results).toHaveLength(12);
    const one = first.results[3]!;
    expect(ok(await owner.call('GET', `${base()}/${sub.id}/deliveries/${one.id}/`))).toEqual(one);
    expectError(await owner.call('GET', `${base()}/${sub.id}/deliveries/00000000-0000-0000-0000-000000000000/`), 404, notFound());
    expectError(await owner.call('GET', `${base()}/${sub.id}/deliveries/?cursor=garbage`), 404, notFound('Invalid cursor'));
    const other = await factories(ctx).tenant();
    expectError(await other.call('GET', `/api/projects/${other.teamId}/subscriptions/${sub.id}/deliveries/${one.id}/`), 404, notFound());
  });
});
