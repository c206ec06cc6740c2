import { gzipSync } from 'node:zlib';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, heatmapPages, heatmapPoints, jobs, rawSessions, recordingBlocks, recordingConsoleLogs, sessionRecordings, teams } from '../../../src/db/schema/index.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import { RETENTION_DEDUPE_KEY, RETENTION_INTERVAL_MS } from '../../../src/modules/capture/jobs.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';
import { capturingLogger, waitFor } from '../../helpers/jobs.js';

const DAY = 24 * 3600 * 1000;
let counter = 0;
const nextUuid = () => `0190a0b0-0000-7000-b000-${String(++counter).padStart(12, '0')}`;

describe('capture: retention', () => {
  let ctx: TestContext;
  let shortLived: Tenant;
  let longLived: Tenant;
  let make: Factories;

  beforeAll(async () => {
    ctx = await createTestContext({ EVENTS_RETENTION_DAYS: '30' });
    make = factories(ctx);
    shortLived = await make.tenant();
    longLived = await make.tenant();
    ok(await longLived.call('PATCH', `/api/projects/${longLived.teamId}/`, { session_recording_retention_period: '90d' }));
  });
  afterAll(() => ctx.close());


  async function visit(owner: Tenant, sessionId: string, daysAgo: number): Promise<void> {
    const token = await make.projectToken(owner);
    const at = Date.now() - daysAgo * DAY;
    const eventBatch = {
      api_key: token,
      // posthog-js stamps sent_at; left out here, so the timestamps are taken as they are.
      batch: [
        {
          uuid: nextUuid(),
          event: '$$heatmap',
          distinct_id: 'v',
          timestamp: new Date(at).toISOString(),
          properties: { $session_id: sessionId, $current_url: 'https://shop.example.com/', $heatmap_data: { 'https://shop.example.com/': [{ x: 1, y: 2, type: 'click' }] } },
        },
      ],
    };
    expect((await ctx.app.inject({ method: 'POST', url: '/e/', payload: eventBatch })).statusCode).toBe(200);
    const snapshot = [
      {
        uuid: nextUuid(),
        event: '$snapshot',
        properties: {
          token,
          distinct_id: 'v',
          $session_id: sessionId,
          $snapshot_data: [
            { type: 4, timestamp: at, data: { href: 'https://shop.example.com/' } },
            { type: 6, timestamp: at + 1, data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"boom"'], trace: [] } } },
          ],
        },
      },
    ];
    const response = await ctx.app.inject({ method: 'POST', url: '/s/', headers: { 'content-type': 'text/plain' }, payload: gzipSync(JSON.stringify(snapshot)) });
    expect(response.statusCode).toBe(200);
  }

  it('deletes recordings past their project’s retention and events past EVENTS_RETENTION_DAYS, once a day', async () => {
    await visit(shortLived, 'old-30d', 40);
    await visit(shortLived, 'new-30d', 1);
    await visit(longLived, 'old-90d', 40);
    expect(await ctx.database.db.select({ days: sessionRecordings.retentionPeriodDays }).from(sessionRecordings).where(eq(sessionRecordings.sessionId, 'old-90d'))).toEqual([
      { days: 90 },
    ]);

    // A page whose points all went past the cutoff long ago; and the visits' page, last seen as long ago until a new
    // point on it today.
    const longAgo = new Date(Date.now() - 40 * DAY).toISOString();
    await ctx.database.db.insert(heatmapPages).values({ teamId: shortLived.teamId, url: 'https://shop.example.com/gone', lastSeenAt: longAgo });
    await ctx.database.db.update(heatmapPages).set({ lastSeenAt: longAgo }).where(eq(heatmapPages.url, 'https://shop.example.com/'));
    const seenAgain = {
      api_key: await make.projectToken(shortLived),
      batch: [{ uuid: nextUuid(), event: '$$heatmap', distinct_id: 'v', timestamp: new Date().toISOString(), properties: { $session_id: 'seen-again', $heatmap_data: { 'https://shop.example.com/': [{ x: 3, y: 4, type: 'click' }] } } }],
    };
    expect((await ctx.app.inject({ method: 'POST', url: '/e/', payload: seenAgain })).statusCode).toBe(200);

    const { log, lines } = capturingLogger();
    const worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log, settings: { concurrency: 1, pollIntervalMs: 20, leaseMs: 5000 } });
    try {
      await waitFor(() => lines.some((line) => line.msg === 'deleted recordings and events past their retention'), 20_000);
    } finally {
      await worker.stop({ timeoutMs: 5000 });
    }

    const recordings = (await ctx.database.db.select({ sessionId: sessionRecordings.sessionId }).from(sessionRecordings)).map((r) => r.sessionId).sort();
    expect(recordings).toEqual(['new-30d', 'old-90d']);
    const blocks = await ctx.database.db.select({ sessionId: recordingBlocks.sessionId }).from(recordingBlocks).where(eq(recordingBlocks.sessionId, 'old-30d'));
    expect(blocks).toEqual([]);

    const sessionIds = ['old-30d', 'new-30d', 'old-90d'];
    const eventSessions = (await ctx.database.db.select({ s: events.sessionId }).from(events).where(inArray(events.sessionId, sessionIds))).map((r) => r.s);
    expect(eventSessions).toEqual(['new-30d']);
    const pointSessions = (await ctx.database.db.select({ s: heatmapPoints.sessionId }).from(heatmapPoints).where(inArray(heatmapPoints.sessionId, sessionIds))).map((r) => r.s);
    expect(pointSessions).toEqual(['new-30d']);
    const pages = (await ctx.database.db.select({ url: heatmapPages.url }).from(heatmapPages).where(eq(heatmapPages.teamId, shortLived.teamId))).map((p) => p.url);
    expect(pages).toEqual(['https://shop.example.com/']);
    const visits = (await ctx.database.db.select({ s: rawSessions.sessionId }).from(rawSessions).where(inArray(rawSessions.sessionId, sessionIds))).map((r) => r.s);
    expect(visits).toEqual(['new-30d']);

    const next = await ctx.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.kind, 'capture.retention'), eq(jobs.status, 'queued')));
    expect(next).toHaveLength(1);
    expect(next[0]!.dedupeKey).toBe(RETENTION_DEDUPE_KEY);
    expect(Date.parse(next[0]!.runAt) - Date.now()).toBeGreaterThan(RETENTION_INTERVAL_MS - 60_000);
  });

  it('deletes a project’s captured rows with the project (they keep no foreign key to it), and no other project’s', async () => {
    const gone = await make.tenant();
    const kept = await make.tenant();
    for (const owner of [gone, kept]) {
      ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/`, { capture_console_log_opt_in: true }));
      await visit(owner, `visit-${owner.teamId}`, 0);
    }
    const tables = [events, heatmapPoints, heatmapPages, rawSessions, sessionRecordings, recordingBlocks, recordingConsoleLogs];
    const rowsOf = (teamId: number) =>
      Promise.all(tables.map(async (table) => (await ctx.database.db.select({ teamId: table.teamId }).from(table).where(eq(table.teamId, teamId))).length));
    expect((await rowsOf(gone.teamId)).every((count) => count > 0)).toBe(true);
    const keptBefore = await rowsOf(kept.teamId);

    await ctx.database.db.delete(teams).where(eq(teams.id, gone.teamId));

    expect(await rowsOf(gone.teamId)).toEqual(tables.map(() => 0));
    expect(await rowsOf(kept.teamId)).toEqual(keptBefore);
  });
});
