import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentRenderError, TransientRenderError } from '../../../src/browser/errors.js';
import { loadConfig } from '../../../src/config.js';
import { createContainer } from '../../../src/container.js';
import { openDatabase } from '../../../src/db/client.js';
import { savedHeatmaps } from '../../../src/db/schema/index.js';
import { createHeatmapRenderHandler, type HeatmapRenderDeps } from '../../../src/modules/heatmaps/jobs.js';
import type { RenderRequest } from '../../../src/modules/heatmaps/screenshots/renderer.js';
import type { Job } from '../../../src/jobs/queue.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { startWorker } from '../../../src/runtime.js';
import type { SavedHeatmapRow } from '../../../src/modules/heatmaps/repository.js';
import { ok } from '../../helpers/api.js';
import { bearer, createTestContext, type TestAccount, type TestContext } from '../../helpers/context.js';
import { adminQuery, databaseUrl, TEST_DATABASE_URL } from '../../helpers/database.js';
import { type PageServer, startPageServer } from '../../helpers/page-server.js';
import { spawnEntry, stop } from '../../helpers/process.js';

/** Real Chromium on pages served by the test on 127.0.0.1, which the test config lets through the SSRF guard. */
const RENDER_ENV = {
  RENDER_ALLOWED_HOSTS: '127.0.0.1',
  RENDER_SETTLE_TIMEOUT_SECONDS: '3',
  RENDER_NAVIGATION_TIMEOUT_SECONDS: '10',
  JOB_POLL_INTERVAL_MS: '100',
  JOB_LEASE_SECONDS: '5',
};
const silent = pino({ level: 'silent' });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('rendering saved heatmaps', { timeout: 180_000 }, () => {
  let ctx: TestContext;
  let pages: PageServer;
  let account: TestAccount;
  let key: string;
  let worker: Worker;
  let base: string;

  beforeAll(async () => {
    pages = await startPageServer();
    ctx = await createTestContext(RENDER_ENV);
    account = await ctx.newAccount();
    key = await ctx.newKey(account.user);
    base = `/api/projects/${account.teamId}`;
    worker = await startWorker(ctx.services, silent);
  });
  afterAll(async () => {
    await worker?.stop({ timeoutMs: 1000 });
    await ctx?.close();
    await pages?.close();
  });

  const get = (url: string) => ctx.app.inject({ url, headers: bearer(key) });
  const finished = (shortId: string) =>
    until(`heatmap ${shortId} to finish`, async () => {
      const body = ok(await get(`${base}/saved/${shortId}/`));
      return body.status === 'processing' ? undefined : body;
    });

  it('renders every width into a JPEG of that width, mobile below 500 px, served by the content endpoint', async () => {
    const created = ok(await ctx.app.inject({ method: 'POST', url: `${base}/saved/`, headers: bearer(key), payload: { url: pages.url('/basic.html'), widths: [375, 1024] } }), 201);
    const done = await finished(created.short_id);
    expect(done).toMatchObject({ status: 'completed', has_content: true, exception: null, snapshots: [{ width: 375, has_content: true }, { width: 1024, has_content: true }] });
    for (const width of [375, 1024]) {
      const response = await get(`${base}/heatmap_screenshots/${created.id}/content/?width=${width}`);
      expect(response.statusCode).toBe(200);
      const meta = await sharp(response.rawPayload).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width });
      expect(meta.height).toBeGreaterThanOrEqual(1800);
    }
    const reports = pages.reports.filter((r) => r.page === 'basic');
    expect(reports.find((r) => r.innerWidth === '375')).toMatchObject({ touch: 'true', coarse: 'true' });
    expect(reports.find((r) => r.innerWidth === '375')!.ua).toMatch(/iPhone/);
    expect(reports.find((r) => r.innerWidth === '1024')).toMatchObject({ touch: 'false' });
    expect(reports.find((r) => r.innerWidth === '1024')!.ua).not.toMatch(/iPhone|Headless/);
  });

  it('fails with the guard’s reason when the page URL is refused at render time', async () => {
    const created = ok(await ctx.app.inject({ method: 'POST', url: `${base}/saved/`, headers: bearer(key), payload: { url: pages.url('/basic.html'), type: 'iframe' } }), 201);
    // The URL was allowed when saved; an operator then narrows the allow-list (a new guard, as after a restart).
    await ctx.database.db.update(savedHeatmaps).set({ url: 'http://127.0.0.2/x', type: 'screenshot' }).where(eq(savedHeatmaps.id, created.id));
    ok(await ctx.app.inject({ method: 'POST', url: `${base}/saved/${created.short_id}/regenerate/`, headers: bearer(key) }));
    const done = await finished(created.short_id);
    expect(done).toMatchObject({ status: 'failed', exception: 'SSRF blocked: Local/Loopback host not allowed', snapshots: [] });
  });

  it('ends a render that cannot succeed after its last attempt, with a readable exception', async () => {
    const created = ok(await ctx.app.inject({ method: 'POST', url: `${base}/saved/`, headers: bearer(key), payload: { url: pages.url('/basic.html'), type: 'iframe' } }), 201);
    const closedPort = new URL(pages.origin);
    closedPort.port = '9';
    await ctx.database.db
      .update(savedHeatmaps)
      .set({ url: `${closedPort.origin}/gone`, type: 'screenshot', status: 'processing' })
      .where(eq(savedHeatmaps.id, created.id));
    await ctx.services.queue.enqueue('heatmap.render', { heatmapId: created.id, teamId: account.teamId }, { maxAttempts: 1 });
    const done = await finished(created.short_id);
    expect(done.status).toBe('failed');
    expect(done.exception).toBeTruthy();
    expect(done.exception.length).toBeLessThan(4001);
  });

  it('fails a render whose host name still does not resolve, saying so', async () => {
    const created = ok(await ctx.app.inject({ method: 'POST', url: `${base}/saved/`, headers: bearer(key), payload: { url: 'https://gone.burrow-nowhere.invalid/', type: 'iframe' } }), 201);
    await ctx.database.db.update(savedHeatmaps).set({ type: 'screenshot', status: 'processing' }).where(eq(savedHeatmaps.id, created.id));
    await ctx.services.queue.enqueue('heatmap.render', { heatmapId: created.id, teamId: account.teamId }, { maxAttempts: 1 });
    const done = await finished(created.short_id);
    expect(done).toMatchObject({ status: 'failed', exception: "Could not resolve host gone.burrow-nowhere.invalid: the name has no address in this server's DNS" });
  });

  it('resumes an interrupted render with the widths it has not stored yet', async () => {
    const created = ok(
      await ctx.app.inject({ method: 'POST', url: `${base}/saved/`, headers: bearer(key), payload: { url: pages.url('/basic.html'), widths: [400, 500, 600] } }),
      201,
    );
    await until('the first width', async () => (ok(await get(`${base}/saved/${created.short_id}/`)).snapshots.length > 0 ? true : undefined));
    // Stop mid-render without waiting: the job is abandoned and its lease runs out, as when a process dies.
    await worker.stop({ timeoutMs: 0 });
    const stored = ok(await get(`${base}/saved/${created.short_id}/`)).snapshots.map((s: { width: number }) => s.width);
    // The page reports each render; these widths are this test's own.
    const renders = () => pages.reports.filter((r) => r.page === 'basic' && ['400', '500', '600'].includes(r.innerWidth ?? '')).length;
    const rendersBefore = renders();
    worker = await startWorker(ctx.services, silent);
    const done = await finished(created.short_id);
    expect(done.status).toBe('completed');
    expect(done.snapshots.map((s: { width: number }) => s.width)).toEqual([400, 500, 600]);
    expect(renders() - rendersBefore).toBeLessThanOrEqual(3 - stored.length + 1);
  });
});

describe('the heatmap.render handler', () => {
  /** The handler with a fake repository and a fake renderer, which hands over `widths` as it is asked to. */
  function harness(
    options: {
      stored?: number[];
      storeAnswers?: (width: number) => boolean;
      fail?: { after: number; error: Error };
      attempts?: number;
      verdict?: Awaited<ReturnType<HeatmapRenderDeps['guard']['check']>>;
    } = {},
  ) {
    const calls = { render: [] as RenderRequest[], stored: [] as number[], completed: 0, failed: [] as string[] };
    const heatmap = { id: 'h1', teamId: 1, type: 'screenshot', status: 'processing', url: 'http://127.0.0.1/x', targetWidths: [], renderGeneration: 3, blockConsentModals: false };
    const deps: HeatmapRenderDeps = {
      heatmaps: {
        findForRender: async () => heatmap as unknown as SavedHeatmapRow,
        snapshotSummaries: async () => (options.stored ?? []).map((width) => ({ heatmapId: 'h1', width, hasContent: true, hasLocation: false })),
        storeSnapshot: async (_id, generation, width) => {
          expect(generation).toBe(3);
          if (options.storeAnswers && !options.storeAnswers(width)) return false;
          calls.stored.push(width);
          return true;
        },
        markCompleted: async () => (calls.completed++, true),
        markFailed: async (_id, _generation, exception) => (calls.failed.push(exception), true),
      },
      guard: { check: async (url: string) => options.verdict ?? { allowed: true as const, url: new URL(url), addresses: ['127.0.0.1'] } },
      render: async (request) => {
        calls.render.push(request);
        for (const [i, width] of request.widths.entries()) {
          if (options.fail && i >= options.fail.after) throw options.fail.error;
          if (!(await request.onScreenshot({ width, jpeg: Buffer.from([0xff, 0xd8, 0xff]), durationMs: 1 }))) return { stopped: true };
        }
        return { stopped: false };
      },
      isPermanentFailure: (error) => error instanceof PermanentRenderError,
    };
    const handler = createHeatmapRenderHandler(deps);
    const run = () =>
      handler({
        job: { attempts: options.attempts ?? 1, maxAttempts: 4 } as unknown as Job,
        payload: { heatmapId: 'h1', teamId: 1 },
        signal: new AbortController().signal,
        log: silent,
      });
    return { calls, run };
  }

  it('asks the renderer once for the widths not stored yet, stores each as it comes, then completes', async () => {
    const { calls, run } = harness({ stored: [375, 1024] });
    await run();
    expect(calls.render.map((r) => r.widths)).toEqual([[320, 425, 768, 1440, 1920]]);
    expect(calls.stored).toEqual([320, 425, 768, 1440, 1920]);
    expect(calls.completed).toBe(1);
  });

  it('stops without completing when a newer render generation took over', async () => {
    const { calls, run } = harness({ storeAnswers: (width) => width !== 425 });
    await run();
    expect(calls.stored).toEqual([320, 375]);
    expect(calls.completed).toBe(0);
    expect(calls.failed).toEqual([]);
  });

  it('retries while the page\'s host name does not resolve, then fails it saying so; a refused URL fails at once', async () => {
    const unresolved = { allowed: false as const, reason: 'Could not resolve host', unresolved: { host: 'nowhere.invalid' } };
    const early = harness({ verdict: unresolved, attempts: 1 });
    await expect(early.run()).rejects.toThrow('Could not resolve host nowhere.invalid');
    expect(early.calls.render).toEqual([]);
    expect(early.calls.failed).toEqual([]);

    const last = harness({ verdict: unresolved, attempts: 4 });
    await last.run();
    expect(last.calls.render).toEqual([]);
    expect(last.calls.failed).toEqual(["Could not resolve host nowhere.invalid: the name has no address in this server's DNS"]);

    const refused = harness({ verdict: { allowed: false, reason: 'Disallowed target IP: 10.0.0.1' }, attempts: 1 });
    await refused.run();
    expect(refused.calls.failed).toEqual(['SSRF blocked: Disallowed target IP: 10.0.0.1']);
  });

  it('keeps the widths stored so far and fails for good on a permanent error, retries a transient one', async () => {
    const permanent = harness({ fail: { after: 2, error: new PermanentRenderError('SSRF blocked: nope') } });
    await permanent.run();
    expect(permanent.calls.stored).toEqual([320, 375]);
    expect(permanent.calls.failed).toEqual(['SSRF blocked: nope']);

    const transient = harness({ fail: { after: 1, error: new TransientRenderError('Render timed out') } });
    await expect(transient.run()).rejects.toThrow('Render timed out');
    expect(transient.calls.failed).toEqual([]);

    const last = harness({ fail: { after: 0, error: new TransientRenderError('Render timed out') }, attempts: 4 });
    await last.run();
    expect(last.calls.failed).toEqual(['Render timed out']);
  });
});

describe('without a browser', { timeout: 120_000 }, () => {
  it('fails renders at once, saying what to install', async () => {
    const ctx = await createTestContext({ ...RENDER_ENV, CHROMIUM_PATH: '/nonexistent/chromium' });
    const worker = await startWorker(ctx.services, silent);
    try {
      const account = await ctx.newAccount();
      const key = await ctx.newKey(account.user);
      const created = ok(
        await ctx.app.inject({ method: 'POST', url: `/api/projects/${account.teamId}/saved/`, headers: bearer(key), payload: { url: 'http://127.0.0.1:9/x' } }),
        201,
      );
      const done = await until('the failure', async () => {
        const body = ok(await ctx.app.inject({ url: `/api/projects/${account.teamId}/saved/${created.short_id}/`, headers: bearer(key) }));
        return body.status === 'failed' ? body : undefined;
      });
      expect(done.exception).toMatch(/chromium/i);
      expect(done.exception).toMatch(/CHROMIUM_PATH/);
    } finally {
      await worker.stop({ timeoutMs: 1000 });
      await ctx.close();
    }
  });
});

describe.runIf(TEST_DATABASE_URL)('a worker process killed mid-render', { timeout: 240_000 }, () => {
  it('leaves the heatmap recoverable: another worker finishes it after the lease', async () => {
    const pages = await startPageServer();
    const name = `burrow_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    const url = databaseUrl(TEST_DATABASE_URL!, name);
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'burrow-kill-'));
    const env = { ...RENDER_ENV, DATABASE_URL: url, DATA_DIR: dataDir, BOOTSTRAP: 'false', WORKERS: 'off' };
    const database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
    await database.migrate();
    const services = createContainer(database, loadConfig(env), silent);
    let survivor: Worker | undefined;
    try {
      const { team, user } = await services.accounts.createAccount({ email: 'kill@example.com', password: null, firstName: 'Kill' }).then((r) => ({ team: r.team, user: r.user }));
      const key = (await services.admin.apiKeys.create({ user, key: null, session: null }, { label: 'k', scopes: ['*'] })).value!;
      const child = spawnEntry('src/worker.ts', env);
      const app = await import('../../../src/app.js').then((m) => m.buildApp(services));
      const created = ok(
        await app.inject({ method: 'POST', url: `/api/projects/${team.id}/saved/`, headers: bearer(key), payload: { url: pages.url('/basic.html'), widths: [320, 480, 640, 800] } }),
        201,
      );
      await until('the child to store a width', async () => {
        const body = ok(await app.inject({ url: `/api/projects/${team.id}/saved/${created.short_id}/`, headers: bearer(key) }));
        return body.snapshots.length > 0 ? true : undefined;
      });
      child.child.kill('SIGKILL');
      await stop(child);
      survivor = await startWorker(services, silent);
      const done = await until('the survivor to finish', async () => {
        const body = ok(await app.inject({ url: `/api/projects/${team.id}/saved/${created.short_id}/`, headers: bearer(key) }));
        return body.status === 'completed' ? body : undefined;
      });
      expect(done.snapshots.map((s: { width: number }) => s.width)).toEqual([320, 480, 640, 800]);
      await app.close();
    } finally {
      await survivor?.stop({ timeoutMs: 1000 });
      await services.browser.close();
      await database.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
      await fs.rm(dataDir, { recursive: true, force: true });
      await pages.close();
    }
  });
});
