import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import sharp from 'sharp';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { sleep, waitFor } from '../../helpers/jobs.js';
import { savedHeatmap } from '../exports/fixtures.js';
import { deliveriesOf, type Sub } from './fixtures.js';

const SITE = 'https://burrow.example.com';
const PAGE = 'http://93.184.215.14/pricing';

interface Mail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  /** The raw message with quoted-printable undone (the text and HTML parts readable). */
  decoded: string;
}

const decodeQp = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** A header's RFC 2047 Q-encoded words ("=?UTF-8?Q?…?=") decoded. */
const decodeWords = (value: string) =>
  value.replace(/\?=\s+=\?UTF-8\?Q\?/gi, '').replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, text: string) => Buffer.from(decodeQp(text.replace(/_/g, ' ')), 'latin1').toString('utf8'));

/** A real SMTP server (smtp-server) on 127.0.0.1 keeping every message it accepts. */
async function smtp() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        const subject = decodeWords(/^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? '');
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
          decoded: decodeQp(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('subscription emails over SMTP', { timeout: 60_000 }, () => {
  let mailbox: Awaited<ReturnType<typeof smtp>>;
  let ctx: TestContext;
  let owner: Tenant;
  let worker: Worker;
  let shortId: string;
  let base: string;

  beforeAll(async () => {
    mailbox = await smtp();
    ctx = await createTestContext({ SITE_URL: SITE, EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(mailbox.port), EMAIL_DEFAULT_FROM: 'reports@burrow.example.com' });
    owner = await factories(ctx).tenant({ firstName: 'Ada' });
    base = `/api/projects/${owner.teamId}/subscriptions`;
    const jpeg = await sharp({ create: { width: 1024, height: 800, channels: 3, background: { r: 255, g: 255, b: 255 } } }).jpeg().toBuffer();
    shortId = (await savedHeatmap(ctx, owner.teamId, PAGE, jpeg, { ageMs: 60_000, width: 1024 })).shortId;
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 30_000 } });
  });
  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
    await mailbox?.close();
  });

  const deliveries = (id: number) => deliveriesOf(owner, base).list(id);
  const finished = (id: number, n: number) => deliveriesOf(owner, base).finished(id, n);
  const mailsTo = (address: string) => mailbox.mails.filter((m) => m.to.includes(address));
  const unsubscribeToken = (mail: Mail) => /\/api\/unsubscribe\?token=([\w.-]+)/.exec(mail.decoded)?.[1];

  it('invites the recipients on create, delivers the scheduled report with the image inline to exactly them, invites only new ones on a target change, and unsubscribes', async () => {
    const sub = ok<Sub>(
      await owner.call('POST', `${base}/`, {
        saved_heatmap: shortId,
        title: 'Pricing clicks',
        target_type: 'email',
        target_value: `a@example.com,b@example.com,${owner.user.email}`,
        frequency: 'weekly',
        interval: 1,
        start_date: '2030-01-07T09:00:00Z',
        invite_message: 'Have a look every week',
      }),
      201,
    );
    // The invites: one message per address, the creator's own subject differs.
    const [invite] = await finished(sub.id, 1);
    expect(invite).toMatchObject({ trigger_type: 'target_change', status: 'completed', scheduled_at: null, exported_asset_ids: [expect.any(Number)] });
    expect(invite!.recipient_results).toEqual([
      { recipient: 'a@example.com', status: 'success' },
      { recipient: 'b@example.com', status: 'success' },
      { recipient: owner.user.email, status: 'success' },
    ]);
    expect(mailbox.mails).toHaveLength(3);
    expect(mailsTo('a@example.com')[0]!.subject).toBe('Ada subscribed you to a Burrow Heatmap report');
    expect(mailsTo(owner.user.email)[0]!.subject).toBe('You have been subscribed to a Burrow Heatmap report');
    const invited = mailsTo('b@example.com')[0]!;
    expect(invited.from).toBe('reports@burrow.example.com');
    expect(invited.decoded).toContain('Have a look every week');
    expect(invited.decoded).toContain('This subscription is sent every week. The next subscription will be sent on Monday January 07, 2030.');
    // Invites leave the schedule alone.
    expect(ok<Sub>(await owner.call('GET', `${base}/${sub.id}/`)).next_delivery_date).toBe('2030-01-07T09:00:00Z');

    // The scheduled report.
    mailbox.mails.length = 0;
    await ctx.database.db.execute(sql`update subscriptions set next_delivery_date = now() - interval '1 minute' where id = ${sub.id}`);
    await ctx.services.enqueueDueDeliveries();
    const [scheduled] = await finished(sub.id, 2);
    expect(scheduled).toMatchObject({ trigger_type: 'scheduled', status: 'completed' });
    expect(mailbox.mails.map((m) => m.to).sort()).toEqual([['a@example.com'], ['b@example.com'], [owner.user.email]].sort());
    const report = mailsTo('a@example.com')[0]!;
    expect(report.subject).toBe('Burrow Heatmap report - Pricing clicks');
    const assetId = (scheduled!.exported_asset_ids as number[])[0]!;
    // Plain text and HTML; the image attached inline (its Content-ID in an <img src="cid:…">) and linked on /exporter/.
    expect(report.raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(report.raw).toMatch(/Content-Type: text\/plain/);
    expect(report.raw).toMatch(/Content-Type: text\/html/);
    expect(report.raw).toMatch(new RegExp(`Content-ID: <asset-${assetId}@burrow>`));
    expect(report.raw).toMatch(/Content-Type: image\/png/);
    expect(report.decoded).toContain(`<img src="cid:asset-${assetId}@burrow"`);
    const link = new RegExp(`${SITE}/exporter/[^"?\\s]+\\.png\\?token=[\\w.-]+`).exec(report.decoded)?.[0];
    expect(link).toBeDefined();
    expect((await ctx.app.inject({ method: 'GET', url: link!.slice(SITE.length) })).headers['content-type']).toBe('image/png');
    expect(report.decoded).toContain(`${SITE}/project/${owner.teamId}/subscriptions/${sub.id}?utm_source=burrow`);

    // A new target: only the address it adds is invited; a title change sends nothing.
    mailbox.mails.length = 0;
    ok(await owner.call('PATCH', `${base}/${sub.id}/`, { target_value: 'a@example.com,c@example.com' }));
    await finished(sub.id, 3);
    ok(await owner.call('PATCH', `${base}/${sub.id}/`, { title: 'Renamed' }));
    await sleep(300);
    expect(mailbox.mails.map((m) => m.to)).toEqual([['c@example.com']]);
    expect(mailbox.mails[0]!.subject).toBe('Ada subscribed you to a Burrow Heatmap report');

    // Unsubscribe links: each removes its own address; the last one soft-deletes the subscription.
    const unsubscribe = async (token: string | undefined) => ok<{ success: boolean }>(await ctx.app.inject({ method: 'GET', url: `/api/unsubscribe?token=${token ?? ''}` }));
    expect(await unsubscribe(unsubscribeToken(report))).toEqual({ success: true });
    expect(ok<Sub>(await owner.call('GET', `${base}/${sub.id}/`))).toMatchObject({ target_value: 'c@example.com', deleted: false });
    expect(await unsubscribe(unsubscribeToken(mailbox.mails[0]!))).toEqual({ success: true });
    expect(ok<Sub>(await owner.call('GET', `${base}/${sub.id}/`))).toMatchObject({ target_value: '', deleted: true });
    expect(await unsubscribe('not-a-token')).toEqual({ success: false });
    expect(await unsubscribe(undefined)).toEqual({ success: false });
    expect(await unsubscribe(link!.split('token=')[1])).toEqual({ success: false });
  });

  it('a webhook target the URL guard refuses at delivery disables the subscription and emails its creator', async () => {
    const sub = ok<Sub>(
      await owner.call('POST', `${base}/`, {
        recordings_query: { filter_test_accounts: false },
        title: 'Nightly sessions',
        target_type: 'webhook',
        target_value: 'http://93.184.215.14/hook',
        frequency: 'daily',
        interval: 1,
        start_date: '2030-01-07T09:00:00Z',
      }),
      201,
    );
    mailbox.mails.length = 0;
    // Its address became a loopback one since it was checked at create.
    await ctx.database.db.execute(sql`update subscriptions set target_value = 'http://127.0.0.1:9/hook', next_delivery_date = now() - interval '1 minute' where id = ${sub.id}`);
    await ctx.services.enqueueDueDeliveries();
    const [failed] = await finished(sub.id, 1);
    expect(failed).toMatchObject({ status: 'failed', error: { message: 'Invalid webhook URL: Local/Loopback host not allowed (http://127.0.0.1:9/hook)' } });
    const told = await waitFor(() => mailbox.mails.find((m) => m.to.includes(owner.user.email)));
    expect(told.subject).toBe('Burrow subscription "Nightly sessions" has been automatically disabled');
    expect(told.decoded).toContain('Invalid webhook URL: Local/Loopback host not allowed');
    expect(ok<Sub>(await owner.call('GET', `${base}/${sub.id}/`)).enabled).toBe(false);
  });

  it('an SMTP server that cannot be reached gives failed recipient results and, its retries used, a failed delivery; a subscription created disabled invites no one', async () => {
    const sub = ok<Sub>(
      await owner.call('POST', `${base}/`, {
        recordings_query: { filter_test_accounts: false },
        target_type: 'email',
        target_value: 'x@example.com',
        frequency: 'daily',
        interval: 1,
        start_date: '2030-01-07T09:00:00Z',
        enabled: false,
      }),
      201,
    );
    // Disabled at create: no invite.
    await sleep(200);
    expect(await deliveries(sub.id)).toEqual([]);
    await mailbox.close();
    ok(await owner.call('PATCH', `${base}/${sub.id}/`, { enabled: true }));
    await ctx.database.db.execute(sql`update subscriptions set next_delivery_date = now() - interval '1 minute' where id = ${sub.id}`);
    await ctx.database.db.execute(sql`update jobs set max_attempts = 1 where kind = 'subscription.deliver' and status = 'queued'`);
    await ctx.services.enqueueDueDeliveries();
    await ctx.database.db.execute(sql`update jobs set max_attempts = 1 where kind = 'subscription.deliver' and status = 'queued'`);
    const [failed] = await finished(sub.id, 1);
    expect(failed).toMatchObject({ status: 'failed', recipient_results: [{ recipient: 'x@example.com', status: 'failed' }] });
    expect((failed!.error as { message: string }).message).toMatch(/^Email to x@example.com failed: /);
  });
});
