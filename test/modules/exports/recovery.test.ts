import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/jobs.js';

const silent = pino({ level: 'silent' });
const settings = (leaseMs: number) => ({ concurrency: 1, pollIntervalMs: 20, leaseMs });

describe('an export whose worker dies mid-export', () => {
  let ctx: TestContext;
  /** A second process on the same database, whose worker hangs inside the export and then dies. */
  let doomed: TestContext;
  let owner: Tenant;
  const workers: Worker[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '0' });
    doomed = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '0' }, { database: ctx.database });
    owner = await factories(ctx).tenant();
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop({ timeoutMs: 100 });
    await doomed?.close();
    await ctx?.close();
  });

  it('is produced by another worker once the dead one lost its lease', async () => {
    const base = `/api/projects/${owner.teamId}/exports`;
    // The doomed process's API calls never answer: its export job hangs until the process goes away.
    doomed.services.internalApi.attach(() => new Promise(() => {}));
    const dying = await startAppWorker({ queue: doomed.services.queue, jobs: doomed.services.jobs, log: silent, settings: settings(600) });
    workers.push(dying);

    const created = ok(await owner.call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `${base}/` } }), 201);
    expect(created.has_content).toBe(false);
    await waitFor(async () => {
      const rows = await queryRows<{ status: string }>(ctx.database.db, sql`select status from jobs where kind = 'export.produce' and payload->>'exportId' = ${String(created.id)}`);
      return rows[0]?.status === 'running';
    });
    // Gone without recording anything: the job stays running under a lease nobody renews.
    await dying.stop({ timeoutMs: 10 });
    expect(ok(await owner.call('GET', `${base}/${created.id}/`)).has_content).toBe(false);
    expect((await owner.call('GET', `${base}/${created.id}/content/`)).statusCode).toBe(425);

    workers.push(await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: silent, settings: settings(5000) }));
    const done = await waitFor(async () => {
      const body = ok(await owner.call('GET', `${base}/${created.id}/`));
      return body.has_content ? body : undefined;
    }, 20_000);
    expect(done.exception).toBeNull();
    const csv = (await owner.call('GET', `${base}/${created.id}/content/`)).body;
    expect(csv.split('\r\n')[1]).toMatch(new RegExp(`^${created.id},`));
  });
});
