import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ROW_LIMIT } from '../../../src/modules/exports/rules.js';
import { LIMIT_NOTE } from '../../../src/modules/exports/producers/tabular.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { TEST_DATABASE_URL } from '../../helpers/database.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { BULK_EXPORT, exportedCsvRows, insertBulkEvents } from './bulk-events.js';

/**
 * Postgres only: on PGlite, inserting the 300,005 events alone takes about 35 s and the export 17 s (a minute for the
 * file). The cap is PostHog's CSV_EXPORT_LIMIT, a constant of its exporter rather than a setting, so it stays one here
 * too; tabular.test.ts checks the same cut-off on the producer alone, and bench:exports-csv on a real run.
 */
describe.runIf(TEST_DATABASE_URL)('the 300,000-row cap of a CSV export, through the API', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let worker: Worker;

  beforeAll(async () => {
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '0' });
    owner = await factories(ctx).tenant();
    await insertBulkEvents(ctx.database.db, owner.teamId, ROW_LIMIT + 5);
    await ctx.database.db.execute(sql`analyze events`);
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 1, pollIntervalMs: 50, leaseMs: 30_000 } });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
  });

  it('stops an EventsQuery export of 300,005 events at its newest 300,000 rows and ends it with the note row', async () => {
    const base = `/api/projects/${owner.teamId}/exports`;
    const created = ok(await owner.call('POST', `${base}/`, BULK_EXPORT), 201);
    const rows = await exportedCsvRows(owner.call, base, created.id, 110_000);
    expect(rows).toHaveLength(ROW_LIMIT + 1);
    expect(rows[0]).toBe(String(ROW_LIMIT + 5));
    expect(rows.at(-2)).toBe('6');
    expect(rows.at(-1)).toBe(LIMIT_NOTE);
  });
});
