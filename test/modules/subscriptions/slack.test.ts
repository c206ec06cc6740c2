import { sql } from 'drizzle-orm';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { expectError, invalid, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { type Body, factories, type Tenant } from '../../helpers/factories.js';
import { sleep, waitFor } from '../../helpers/jobs.js';
import { type PostedMessage, type SlackServer, slackServer } from '../../helpers/slack-server.js';
import { savedHeatmap } from '../exports/fixtures.js';
import { deliveriesOf, insertRecording, type Sub } from './fixtures.js';

const SITE = 'https://burrow.example.com';
const PAGE = 'http://93.184.215.14/pricing';
const TOKEN = 'xoxb-acme';

describe('Slack subscriptions (a local server speaking Slack Web API)', { timeout: 60_000 }, () => {
  let slack: SlackServer;
  let ctx: TestContext;
  let owner: Tenant;
  let worker: Worker;
  let integrationId: number;
  let shortId: string;
  let base: string;

  beforeAll(async () => {
    slack = await slackServer();
    slack.tokens.set(TOKEN, { teamId: 'T0ACME', teamName: 'Acme', botUserId: 'U0BOT' });
    slack.channels.push({ id: 'CREPORTS', name: 'reports' }, { id: 'CGROWTH', name: 'growth' }, { id: 'COLD', name: 'old' }, { id: 'CQA', name: 'qa' }, { id: 'CLIMIT', name: 'limits' });
    ctx = await createTestContext({ SITE_URL: SITE, SLACK_API_URL: slack.apiUrl });
    owner = await factories(ctx).tenant();
    base = `/api/projects/${owner.teamId}/subscriptions`;
    integrationId = ok<Body>(await owner.call('POST', `/api/projects/${owner.teamId}/integrations/`, { kind: 'slack', config: { access_token: TOKEN } }), 201).id as unknown as number;
    const jpeg = await sharp({ create: { width: 1024, height: 800, channels: 3, background: { r: 255, g: 255, b: 255 } } }).jpeg().toBuffer();
    shortId = (await savedHeatmap(ctx, owner.teamId, PAGE, jpeg, { ageMs: 60_000, width: 1024 })).shortId;
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 30_000 } });
  });
  beforeEach(() => {
    slack.failures.length = 0;
  });
  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
    await slack?.close();
  });

  const subscribe = async (extra: Record<string, unknown>) =>
    ok<Sub>(
      await owner.call('POST', `${base}/`, {
        target_type: 'slack',
        target_value: 'CREPORTS|#reports',
        integration_id: integrationId,
        frequency: 'weekly',
        interval: 1,
        byweekday: ['monday'],
        start_date: '2030-01-07T09:00:00Z',
        ...extra,
      }),
      201,
    );
  const finished = (id: number, n: number) => deliveriesOf(owner, base).finished(id, n);
  const makeDue = (id: number) => ctx.database.db.execute(sql`update subscriptions set next_delivery_date = date_trunc('second', now()) - interval '1 minute' where id = ${id}`);
  const deliverNow = async (id: number, n: number) => {
    await makeDue(id);
    await ctx.services.enqueueDueDeliveries();
    return finished(id, n);
  };
  const inChannel = (channel: string) => slack.messages.filter((m) => m.channel === channel);
  const threadOf = (parent: PostedMessage) => slack.messages.filter((m) => m.thread_ts === parent.ts);
  const blockTexts = (m: PostedMessage) => (m.blocks as Body[]).map((b) => b.text?.text ?? (b.type === 'context' ? b.elements[0].text : b.type));

  it('refuses a Slack subscription without an integration of the team, or with another kind of target checks', async () => {
    const body = { recordings_query: {}, target_type: 'slack', target_value: 'CREPORTS|#reports', frequency: 'daily', interval: 1, start_date: '2030-01-07T09:00:00Z' };
    expectError(await owner.call('POST', `${base}/`, body), 400, invalid('A Slack integration is required for Slack subscriptions.', 'integration_id'));
    expectError(await owner.call('POST', `${base}/`, { ...body, integration_id: 999999 }), 400, invalid('This integration does not exist or does not belong to your team.', 'integration_id'));
    const other = await factories(ctx).tenant();
    const foreign = ok<Body>(await other.call('POST', `/api/projects/${other.teamId}/integrations/`, { kind: 'slack', config: { access_token: TOKEN } }), 201);
    expectError(await owner.call('POST', `${base}/`, { ...body, integration_id: foreign.id }), 400, invalid('This integration does not exist or does not belong to your team.', 'integration_id'));
  });

  it('a saved heatmap: the channel is told it is subscribed, each report is a message with the image in its thread, a new channel is invited and a title edit sends nothing', async () => {
    const sub = await subscribe({ saved_heatmap: shortId, title: 'Pricing clicks' });
    const [invite] = await finished(sub.id, 1);
    expect(invite).toMatchObject({ trigger_type: 'target_change', status: 'completed', target_type: 'slack', recipient_results: [{ recipient: 'CREPORTS', status: 'success' }] });
    const [welcome] = inChannel('CREPORTS');
    expect(welcome!.token).toBe(TOKEN);
    expect(welcome!.text).toBe(
      'This channel has been subscribed to the heatmap *Pricing clicks* on Burrow! 🎉\nThis subscription is sent every week. The next one will be sent on Monday January 07, 2030.',
    );

    const [, scheduled] = await deliverNow(sub.id, 2).then((rows) => rows.filter((d) => d.status !== 'starting').reverse());
    expect(scheduled).toMatchObject({ trigger_type: 'scheduled', status: 'completed', recipient_results: [{ recipient: 'CREPORTS', status: 'success' }] });
    expect(scheduled!.exported_asset_ids).toHaveLength(1);
    const report = inChannel('CREPORTS').filter((m) => m.thread_ts === null).at(-1)!;
    expect(report.text).toBe('Your subscription to the heatmap *Pricing clicks* is ready! 🎉');
    expect(blockTexts(report)).toEqual(['Your subscription to the heatmap *Pricing clicks* is ready! 🎉', '_See 🧵 for the heatmap_', 'divider', 'actions']);
    const actions = (report.blocks as Body[]).at(-1)!.elements as Body[];
    expect(actions.map((b) => [b.text.text, b.url])).toEqual([
      ['View in Burrow', `${SITE}/project/${owner.teamId}/heatmaps/${shortId}`],
      ['Manage Subscription', `${SITE}/project/${owner.teamId}/subscriptions/${sub.id}`],
    ]);
    const [image] = threadOf(report);
    expect(image!.file).toMatchObject({ title: PAGE, filename: 'http-93.184.215.14-pricing.png' });
    const meta = await sharp(image!.file!.bytes).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 1024 });

    // A title edit sends nothing; a new channel gets the invite, the old one nothing more.
    const before = slack.messages.length;
    ok(await owner.call('PATCH', `${base}/${sub.id}/`, { title: 'Pricing' }));
    ok(await owner.call('PATCH', `${base}/${sub.id}/`, { target_value: 'CGROWTH|#growth' }));
    await finished(sub.id, 3);
    const added = slack.messages.slice(before);
    expect(added.filter((m) => m.thread_ts === null).map((m) => [m.channel, m.text.split('\n')[0]])).toEqual([['CGROWTH', 'This channel has been subscribed to the heatmap *Pricing* on Burrow! 🎉']]);
    expect(added.filter((m) => m.file).map((m) => m.channel)).toEqual(['CGROWTH']);
  });

  it('a recordings query: the report counts the new recordings and lists 20 of them in the thread, then how many more', async () => {
    const sub = await subscribe({ recordings_query: { filter_test_accounts: false }, title: 'Checkout', target_value: 'CQA|#qa' });
    await finished(sub.id, 1);
    for (let i = 0; i < 22; i++) await insertRecording(ctx, owner.teamId, `qa-${i}`, 0, `user-${i}`);
    await deliverNow(sub.id, 2);
    const report = inChannel('CQA').filter((m) => m.thread_ts === null).at(-1)!;
    expect(blockTexts(report)).toEqual(['Your subscription to the recordings query *Checkout* is ready! 🎉', '22 new recordings matched.', '_See 🧵 for the recordings_', 'divider', 'actions']);
    const [list] = threadOf(report);
    const lines = (list!.blocks as Body[]).map((b) => b.text?.text ?? b.elements[0].text);
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(new RegExp(`^<${SITE}/project/${owner.teamId}/replay/qa-\\d+\\|\\d{4}-\\d\\d-\\d\\dT[^>]+> · 90 s · user-\\d+ · https://shop.example.com/checkout · 4 clicks · 1 console error$`));
    expect(lines[20]).toBe('and 2 more');
  });

  it('a rate limit is tried again and delivers once', async () => {
    const sub = await subscribe({ recordings_query: {}, title: 'Limits', target_value: 'CLIMIT|#limits', enabled: false });
    ok(await owner.call('PATCH', `${base}/${sub.id}/`, { enabled: true }));
    slack.failures.push({ method: 'chat.postMessage', status: 429 });
    const [delivery] = await deliverNow(sub.id, 1);
    expect(delivery).toMatchObject({ trigger_type: 'scheduled', status: 'completed', recipient_results: [{ recipient: 'CLIMIT', status: 'success' }] });
    expect(inChannel('CLIMIT').filter((m) => m.thread_ts === null)).toHaveLength(1);
  });

  it('an archived channel, or a deleted integration, fails the delivery and disables the subscription', async () => {
    const archived = await subscribe({ recordings_query: {}, title: 'Old', target_value: 'COLD|#old', enabled: false });
    ok(await owner.call('PATCH', `${base}/${archived.id}/`, { enabled: true }));
    slack.channels.find((c) => c.id === 'COLD')!.is_archived = true;
    const [failed] = await deliverNow(archived.id, 1);
    expect(failed).toMatchObject({ status: 'failed', error: { message: 'Slack chat.postMessage failed: is_archived' }, recipient_results: [{ recipient: 'COLD', status: 'failed' }] });
    expect(ok<Sub>(await owner.call('GET', `${base}/${archived.id}/`)).enabled).toBe(false);

    const tenant = await factories(ctx).tenant();
    const { id } = ok<Body>(await tenant.call('POST', `/api/projects/${tenant.teamId}/integrations/`, { kind: 'slack', config: { access_token: TOKEN } }), 201);
    const url = `/api/projects/${tenant.teamId}/subscriptions`;
    const orphan = ok<Sub>(
      await tenant.call('POST', `${url}/`, { recordings_query: {}, target_type: 'slack', target_value: 'CREPORTS', integration_id: id, frequency: 'daily', interval: 1, start_date: '2030-01-07T09:00:00Z', enabled: false }),
      201,
    );
    ok(await tenant.call('PATCH', `${url}/${orphan.id}/`, { enabled: true }));
    expect((await tenant.call('DELETE', `/api/projects/${tenant.teamId}/integrations/${id}/`)).statusCode).toBe(204);
    await makeDue(orphan.id);
    await ctx.services.enqueueDueDeliveries();
    const [none] = await waitFor(async () => {
      await sleep(200);
      const rows = ok<{ results: Body[] }>(await tenant.call('GET', `${url}/${orphan.id}/deliveries/`)).results;
      return rows.some((d) => d.status !== 'starting') && rows;
    }, 30_000);
    expect(none).toMatchObject({ status: 'failed', error: { message: 'Slack subscription has no integration configured. Reconnect Slack first.' } });
    expect(ok<Sub>(await tenant.call('GET', `${url}/${orphan.id}/`)).enabled).toBe(false);
  });

  it('a webhook whose URL the guard now refuses cannot be re-enabled', async () => {
    const sub = await subscribe({ recordings_query: {}, target_type: 'webhook', target_value: 'http://93.184.215.14/hook', integration_id: null, enabled: false });
    await ctx.database.db.execute(sql`update subscriptions set target_value = 'http://localhost:9/hook' where id = ${sub.id}`);
    const refused = await owner.call('PATCH', `${base}/${sub.id}/`, { enabled: true });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ attr: 'enabled', detail: expect.stringMatching(/^Cannot re-enable webhook subscription: Invalid webhook URL: /) });
  });
});
