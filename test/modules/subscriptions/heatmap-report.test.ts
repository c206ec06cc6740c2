import { sql } from 'drizzle-orm';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { decodeRgb, rgbAt } from '../../helpers/images.js';
import { sleep, waitFor } from '../../helpers/jobs.js';
import { heatmapClicks, savedHeatmap } from '../exports/fixtures.js';
import { receiver, type Sub } from './fixtures.js';

const PAGE = 'http://93.184.215.14/pricing';
const WIDTH = 1024;
const SITE = 'https://burrow.example.com';

/** A saved heatmap's stored screenshot: white with a green band at y 100 to 200. */
const screenshot = () =>
  sharp({ create: { width: WIDTH, height: 1200, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([{ input: { create: { width: WIDTH, height: 100, channels: 3, background: { r: 40, g: 160, b: 60 } } }, top: 100, left: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();

describe('saved heatmap reports', { timeout: 60_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let worker: Worker;
  let shortId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ RENDER_ALLOWED_HOSTS: '127.0.0.1', SITE_URL: SITE });
    owner = await factories(ctx).tenant();
    hook = await receiver();
    shortId = (await savedHeatmap(ctx, owner.teamId, PAGE, await screenshot(), { ageMs: 3_600_000, width: WIDTH })).shortId;
    const token = ok<{ api_token: string }>(await owner.call('GET', `/api/projects/${owner.teamId}/`)).api_token;
    // Ten clicks on the green band, an hour ago.
    for (let i = 0; i < 10; i++) await heatmapClicks(ctx, token, PAGE, [{ x: 512, y: 150 }], WIDTH);
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 30_000 } });
  });
  afterAll(async () => {
    await worker?.stop();
    await hook?.close();
    await ctx?.close();
  });

  /** Delivers one slot of a new saved heatmap subscription created `createdAgo` ms ago; answers the delivery and the report. */
  async function deliver(createdAgoMs: number) {
    const base = `/api/projects/${owner.teamId}/subscriptions`;
    const sub = ok<Sub>(
      await owner.call('POST', `${base}/`, { saved_heatmap: shortId, width: WIDTH, target_type: 'webhook', target_value: `${hook.url}/hook`, frequency: 'weekly', interval: 1, start_date: '2030-01-07T09:00:00Z' }),
      201,
    );
    await ctx.database.db.execute(sql`update subscriptions set created_at = now() - ${createdAgoMs} * interval '1 millisecond', next_delivery_date = now() - interval '1 minute' where id = ${sub.id}`);
    const before = hook.received.length;
    await ctx.services.enqueueDueDeliveries();
    const delivery = await waitFor(async () => {
      await sleep(100);
      const [row] = ok<{ results: Sub[] }>(await owner.call('GET', `${base}/${sub.id}/deliveries/`)).results;
      return row && row.status !== 'starting' ? row : undefined;
    }, 40_000);
    expect(hook.received).toHaveLength(before + 1);
    return { sub, delivery, report: JSON.parse(hook.received.at(-1)!.body) as Sub };
  }

  it('exports the page with the points since the last delivery as an image/png with a public /exporter/ link', async () => {
    const { sub, delivery, report } = await deliver(2 * 3_600_000);
    expect(delivery).toMatchObject({ status: 'completed', exported_asset_ids: [expect.any(Number)] });
    const exportId = delivery.exported_asset_ids[0] as number;
    expect(report).toMatchObject({
      title: 'Burrow heatmap report - http://93.184.215.14/pricing',
      resource: { type: 'heatmap', url: PAGE },
      assets: [{ id: exportId, content_type: 'image/png', name: PAGE }],
    });
    const [row] = await queryRows<{ created_by_id: number | null; export_context: Record<string, unknown> }>(
      ctx.database.db,
      sql`select created_by_id, export_context from exported_assets where id = ${exportId}`,
    );
    // A subscription's asset has no creator; its period starts when the subscription was made (heatmap data is kept by
    // day, so the points are those from that day on).
    expect(row).toMatchObject({ created_by_id: null, export_context: { heatmap_url: PAGE, heatmap_data_url: PAGE, width: WIDTH, date_from: report.period.from } });
    expect(Date.parse(report.period.from)).toBeLessThan(Date.now() - 3_600_000);

    const link = (report.assets as { url: string }[])[0]!.url;
    expect(link).toMatch(new RegExp(`^${SITE}/exporter/[^?]+\\.png\\?token=`));
    const file = await ctx.app.inject({ method: 'GET', url: link.slice(SITE.length) });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    const image = await decodeRgb(file.rawPayload);
    expect(image.width).toBe(WIDTH);
    // The clicks of the period are drawn on the green band; far from them the screenshot is as stored.
    expect(rgbAt(image, 512, 150)).not.toEqual([40, 160, 60]);
    const [r, g, b] = rgbAt(image, 512, 800);
    expect(Math.min(r!, g!, b!)).toBeGreaterThan(245);
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/subscriptions/${sub.id}/`, { deleted: true }));
  });
});
