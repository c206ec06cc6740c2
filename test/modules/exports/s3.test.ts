import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { JwtAudience, encodeJwt } from '../../../src/lib/jwt.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { waitFor } from '../../helpers/jobs.js';
import { type S3Server, s3Server } from '../../helpers/s3.js';

describe('exports with BLOB_STORE=s3', () => {
  let s3: S3Server;
  let ctx: TestContext;
  let owner: Tenant;
  let worker: Worker;

  beforeAll(async () => {
    s3 = await s3Server();
    ctx = await createTestContext(s3.env);
    owner = await factories(ctx).tenant();
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 1, pollIntervalMs: 20, leaseMs: 5000 } });
  });

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
    await s3?.close();
  });

  it('stores the file in the bucket and answers content with a 302 to a presigned URL', async () => {
    const base = `/api/projects/${owner.teamId}/exports`;
    const created = ok(await owner.call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `${base}/` } }), 201);
    expect(created.has_content).toBe(true);
    expect(await s3.keys(`exports/csv/team-${owner.teamId}/task-${created.id}/`)).toHaveLength(1);

    const response = await owner.call('GET', `${base}/${created.id}/content/?download=true`);
    expect(response.statusCode).toBe(302);
    const location = response.headers.location as string;
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/exports/csv/`)).toBe(true);
    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/csv');
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="${created.filename}"`);
    expect((await file.text()).split('\r\n')[0]).toMatch(/^id,dashboard,insight,export_format/);

    // s3rver does not check query signatures; test/storage/s3-presign.test.ts checks them against AWS's example.
    const token = encodeJwt(await ctx.services.instance.secretKey(), { id: created.id }, 600, JwtAudience.exportedAsset);
    const publicLink = await ctx.app.inject({ method: 'GET', url: `/exporter/${created.filename}?token=${token}` });
    expect(publicLink.statusCode).toBe(302);
  });

  it('retries storing the file while the object store is down, without recording a failure', async () => {
    const base = `/api/projects/${owner.teamId}/exports`;
    await s3.stop();
    const creating = owner.call('POST', `${base}/`, { export_format: 'application/json', export_context: { path: `${base}/?limit=1` } });
    // The first attempt fails to store the file, and the job is queued again for a retry.
    await waitFor(async () => {
      const rows = await queryRows<{ status: string; attempts: number }>(ctx.database.db, sql`select status, attempts from jobs where kind = 'export.produce' order by id desc limit 1`);
      return rows[0]?.status === 'queued' && rows[0].attempts >= 1;
    }, 20_000);
    await s3.start();
    const created = ok(await creating, 201);
    const done = await waitFor(async () => {
      const body = ok(await owner.call('GET', `${base}/${created.id}/`));
      return body.has_content ? body : undefined;
    }, 30_000);
    expect(done.exception).toBeNull();
  });
});
