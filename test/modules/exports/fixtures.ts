import { expect } from 'vitest';
import { newUuid } from '../../../src/lib/ids.js';
import { createHeatmapsRepository } from '../../../src/modules/heatmaps/repository.js';
import { ok } from '../../helpers/api.js';
import type { TestContext } from '../../helpers/context.js';
import { sleep, waitFor } from '../../helpers/jobs.js';

const HOUR = 3_600_000;
let counter = 0;

/**
 * A saved heatmap of url in the team, with one stored screenshot of `width` (completed) or none yet (processing),
 * created `ageMs` ago: written through the heatmaps repository as a finished render leaves it, so no browser is needed.
 */
export async function savedHeatmap(ctx: TestContext, teamId: number, url: string, jpeg: Buffer | null, options: { ageMs: number; width: number; dataUrl?: string }) {
  const heatmaps = createHeatmapsRepository(ctx.database.db);
  const row = await heatmaps.insert({
    id: newUuid(),
    teamId,
    shortId: `hm${String(++counter).padStart(6, '0')}`,
    url,
    dataUrl: options.dataUrl ?? url,
    targetWidths: [options.width],
    type: 'screenshot',
    status: jpeg ? 'completed' : 'processing',
    createdAt: new Date(Date.now() - options.ageMs).toISOString(),
  });
  if (jpeg) expect(await heatmaps.storeSnapshot(row.id, row.renderGeneration, options.width, jpeg)).toBe(true);
  return row;
}

/** One $$heatmap event as posthog-js sends it, of a visitor in a viewport `width` wide, an hour ago. */
export async function heatmapClicks(ctx: TestContext, projectToken: string, url: string, points: { x: number; y: number }[], width: number) {
  const event = {
    uuid: newUuid(),
    event: '$$heatmap',
    distinct_id: 'visitor',
    timestamp: new Date(Date.now() - HOUR).toISOString(),
    properties: { $session_id: 's1', $viewport_width: width, $viewport_height: 800, $heatmap_data: { [url]: points.map((p) => ({ ...p, target_fixed: false, type: 'click' })) } },
  };
  expect((await ctx.app.inject({ method: 'POST', url: '/batch/', payload: { api_key: projectToken, batch: [event] } })).statusCode).toBe(200);
}

/** Creates an export and answers its row once it has content or an exception (the create itself waits a while). */
export async function createAndAwait(call: ReturnType<TestContext['client']>, base: string, format: string, context: Record<string, unknown>, timeoutMs = 60_000) {
  const created = ok(await call('POST', `${base}/`, { export_format: format, export_context: context }), 201);
  if (created.has_content || created.exception) return created;
  return waitFor(async () => {
    await sleep(500);
    const row = ok(await call('GET', `${base}/${created.id}/`));
    return row.has_content || row.exception ? row : undefined;
  }, timeoutMs);
}
