import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
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
import { postgresUrlOf, waitFor } from '../../helpers/jobs.js';
import { spawnEntry } from '../../helpers/process.js';
import { BULK_EXPORT, exportedCsvRows, insertBulkEvents } from './bulk-events.js';

/** Enough rows that producing the file takes a few seconds, in which the worker is killed. */
const EVENTS = 40_000;

/**
 * Postgres only: the worker is a process of its own, and an in-memory PGlite cannot be shared with another process
 * (nor can a PGlite data directory be opened by two processes at once).
 */
describe.runIf(TEST_DATABASE_URL)('a worker process killed mid-export', { timeout: 60_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let dir: string;
  let child: ChildProcess | undefined;
  let survivor: Worker | undefined;

  beforeAll(async () => {
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '0' });
    owner = await factories(ctx).tenant();
    await insertBulkEvents(ctx.database.db, owner.teamId, EVENTS);
    await ctx.database.db.execute(sql`analyze events`);
    dir = await mkdtemp(path.join(tmpdir(), 'burrow-kill-export-'));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await survivor?.stop({ timeoutMs: 1000 });
    await ctx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('leaves the export to the next worker, which produces it once, whole, in one blob', async () => {
    const base = `/api/projects/${owner.teamId}/exports`;
    const created = ok(await owner.call('POST', `${base}/`, BULK_EXPORT), 201);
    expect(created.has_content).toBe(false);

    // `npm run worker`'s entry point, with a short lease and its temporary files in a directory of this test's.
    const exportDir = path.join(dir, 'tmp');
    await mkdir(exportDir);
    const spawned = spawnEntry('src/worker.ts', {
      TMPDIR: exportDir,
      DATABASE_URL: await postgresUrlOf(ctx.database),
      DATA_DIR: path.join(dir, 'data'),
      BOOTSTRAP: 'false',
      JOB_POLL_INTERVAL_MS: '50',
      JOB_LEASE_SECONDS: '2',
    });
    child = spawned.child;
    const childLog = spawned.output;

    // Mid-export: the worker holds the job and has buffered some of the rows on disk.
    const buffered = await waitFor(async () => {
      if (child!.exitCode !== null) throw new Error(`the worker exited:\n${childLog()}`);
      for (const entry of await readdir(exportDir).catch(() => [] as string[])) {
        const size = await stat(path.join(exportDir, entry, 'rows.jsonl')).then((s) => s.size, () => 0);
        if (size > 0) return size;
      }
      return undefined;
    }, 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; worker log:\n${childLog()}`);
    });
    expect(buffered).toBeGreaterThan(0);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    const [job] = await queryRows<{ id: number; status: string; attempts: number }>(
      ctx.database.db,
      sql`select id, status, attempts from jobs where kind = 'export.produce' and payload->>'exportId' = ${String(created.id)}`,
    );
    expect(job).toMatchObject({ status: 'running', attempts: 1 });
    expect(ok(await owner.call('GET', `${base}/${created.id}/`)).has_content).toBe(false);

    // A second worker takes the job over once the dead one's lease has expired, and produces the file from the start.
    survivor = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 1, pollIntervalMs: 50, leaseMs: 5000 } });
    const rows = await exportedCsvRows(owner.call, base, created.id, 40_000);
    expect(rows).toHaveLength(EVENTS);
    expect(rows[0]).toBe(String(EVENTS));
    expect(rows.at(-1)).toBe('1');
    expect(new Set(rows).size).toBe(EVENTS);

    const [finished] = await queryRows<{ status: string; attempts: number; last_error: string | null }>(
      ctx.database.db,
      sql`select status, attempts, last_error from jobs where id = ${job!.id}`,
    );
    expect(finished).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(finished!.last_error).toMatch(/stopped responding/);
    // One file: the killed run stored nothing (and a run cut off while storing rolls its large object back).
    const blobs = await queryRows<{ key: string }>(ctx.database.db, sql`select key from blobs where key like ${`exports/%/task-${created.id}/%`}`);
    const [asset] = await queryRows<{ content_key: string }>(ctx.database.db, sql`select content_key from exported_assets where id = ${created.id}`);
    expect(blobs.map((b) => b.key)).toEqual([asset!.content_key]);
    const [objects] = await queryRows<{ n: number | string }>(ctx.database.db, sql`select count(*) as n from pg_largeobject_metadata`);
    expect(Number(objects!.n)).toBe(0);
  });
});
