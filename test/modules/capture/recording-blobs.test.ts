import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { capturingLogger, waitFor } from '../../helpers/jobs.js';
import { type S3Server, s3Server } from '../../helpers/s3.js';

let counter = 0;
const nextUuid = () => `0190a0b0-0000-7000-c000-${String(++counter).padStart(12, '0')}`;
const DAY = 24 * 3600 * 1000;

describe.each(['postgres', 's3'] as const)('capture: recording blocks with BLOB_STORE=%s', (kind) => {
  let ctx: TestContext;
  let s3: S3Server;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    s3 = await s3Server();
    ctx = await createTestContext(kind === 's3' ? s3.env : {});
    await ctx.services.blobs.verify();
    const make = factories(ctx);
    tenant = await make.tenant();
    token = await make.projectToken(tenant);
    // A fault the tests can ask for: the recording upsert, which runs after the blocks' bytes are written, fails.
    await ctx.database.db.execute(sql`create function fail_on_doomed() returns trigger language plpgsql as $$
      begin if new.session_id like 'doomed%' then raise exception 'the database failed mid-request'; end if; return new; end $$`);
    await ctx.database.db.execute(sql`create trigger fail_on_doomed before insert on session_recordings for each row execute function fail_on_doomed()`);
  });
  afterAll(async () => {
    await ctx.close();
    await s3.close();
  });

  const snapshot = (sessionId: string, at = Date.now(), uuid = nextUuid()) => ({
    uuid,
    event: '$snapshot',
    properties: {
      token,
      distinct_id: 'v',
      $session_id: sessionId,
      $window_id: 'w',
      $snapshot_data: [
        {
          type: 4,
          timestamp: at,
          data: { href: 'https://shop.example.com/' },
        },
      ],
    },
  });
  const send = (batch: object[]) =>
    ctx.app.inject({
      method: 'POST',
      url: '/s/',
      headers: { 'content-type': 'text/plain' },
      payload: gzipSync(JSON.stringify(batch)),
    });
  const blockKeys = async (sessionId: string) =>
    (await queryRows<{ blob_key: string }>(ctx.database.db, sql`select blob_key from recording_blocks where session_id = ${sessionId} order by id`)).map(
      (r) => r.blob_key,
    );
  /** Every blob the configured store holds, wherever it keeps them. */
  const storedKeys = async (): Promise<string[]> =>
    kind === 's3' ? s3.keys() : (await queryRows<{ key: string }>(ctx.database.db, sql`select key from blobs order by key`)).map((r) => r.key);

  it('keeps each block’s bytes in the store, gzip JSONL of [windowId, event] lines, and writes a batch sent again once', async () => {
    const batch = [snapshot('kept-1', 1_767_000_000_000)];
    expect((await send(batch)).statusCode).toBe(200);
    expect((await send(batch)).statusCode).toBe(200);
    const [key, ...others] = await blockKeys('kept-1');
    expect(others).toEqual([]);
    expect(key).toMatch(new RegExp(`^recordings/${tenant.teamId}/${batch[0]!.uuid}-[0-9a-f]{12}$`));
    expect((await storedKeys()).filter((k) => k.startsWith(`recordings/${tenant.teamId}/${batch[0]!.uuid}`))).toEqual([key]);
    const lines = gunzipSync((await ctx.services.blobs.get(key!))!)
      .toString('utf8')
      .split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      [
        'w',
        {
          type: 4,
          timestamp: 1_767_000_000_000,
          data: { href: 'https://shop.example.com/' },
        },
      ],
    ]);
    if (kind === 's3') expect(await queryRows(ctx.database.db, sql`select key from blobs`)).toEqual([]);
  });

  it('leaves no block, recording or blob behind when the database fails after the bytes were written', async () => {
    const before = await storedKeys();
    const response = await send([snapshot('fine-1'), snapshot('doomed-1')]);
    expect(response.statusCode).toBe(500);
    expect(await blockKeys('fine-1')).toEqual([]);
    expect(await queryRows(ctx.database.db, sql`select session_id from session_recordings where session_id in ('fine-1', 'doomed-1')`)).toEqual([]);
    expect(await storedKeys()).toEqual(before);
  });

  it('fails only the request the database refuses when requests sent at once share a statement', async () => {
    // More requests than CAPTURE_CONCURRENT_WRITES: on Postgres the waiting ones share a statement, which the doomed
    // one fails; each is then stored alone.
    const before = await storedKeys();
    const sessions = ['shared-1', 'shared-2', 'shared-3', 'doomed-2', 'shared-4', 'shared-5', 'shared-6', 'shared-7'];
    const batches = sessions.map((sessionId) => [snapshot(sessionId)]);
    const responses = await Promise.all(batches.map((batch) => send(batch)));
    expect(responses.map((response) => response.statusCode)).toEqual(sessions.map((sessionId) => (sessionId.startsWith('doomed') ? 500 : 200)));
    const kept = await Promise.all(sessions.map((sessionId) => blockKeys(sessionId)));
    expect(kept.map((keys) => keys.length)).toEqual(sessions.map((sessionId) => (sessionId.startsWith('doomed') ? 0 : 1)));
    expect((await storedKeys()).filter((key) => !before.includes(key)).sort()).toEqual(kept.flat().sort());
  });

  it('deletes the blobs of recordings past their retention', async () => {
    expect((await send([snapshot('expiring-1'), snapshot('expiring-1')])).statusCode).toBe(200);
    expect((await send([snapshot('staying-1')])).statusCode).toBe(200);
    const [expiring, staying] = [await blockKeys('expiring-1'), await blockKeys('staying-1')];
    expect(expiring).toHaveLength(2);
    await ctx.database.db.execute(
      sql`update session_recordings set start_time = ${new Date(Date.now() - 40 * DAY).toISOString()} where session_id = 'expiring-1'`,
    );

    const { log, lines } = capturingLogger();
    const worker = await startAppWorker({
      queue: ctx.services.queue,
      jobs: ctx.services.jobs,
      log,
      settings: { concurrency: 1, pollIntervalMs: 20, leaseMs: 5000 },
    });
    try {
      await waitFor(() => lines.some((line) => line.msg === 'deleted recordings and events past their retention'), 20_000);
    } finally {
      await worker.stop({ timeoutMs: 5000 });
    }
    const stored = await storedKeys();
    expect(stored).toEqual(expect.arrayContaining(staying));
    expect(stored.filter((key) => expiring.includes(key))).toEqual([]);
    expect(await blockKeys('expiring-1')).toEqual([]);
  });
});

describe('capture: recording blocks while the object store is down (BLOB_STORE=s3)', () => {
  let ctx: TestContext;
  let s3: S3Server;
  let token: string;

  beforeAll(async () => {
    s3 = await s3Server();
    ctx = await createTestContext(s3.env);
    const make = factories(ctx);
    token = await make.projectToken(await make.tenant());
  });
  afterAll(async () => {
    await ctx.close();
    await s3.close();
  });

  it('answers 500 and stores nothing, and takes the batch sent again once the store is back', async () => {
    const sessionId = 'outage-1';
    const batch = [
      {
        uuid: nextUuid(),
        event: '$snapshot',
        properties: {
          token,
          distinct_id: 'v',
          $session_id: sessionId,
          $snapshot_data: [{ type: 4, timestamp: Date.now(), data: {} }],
        },
      },
    ];
    const send = () =>
      ctx.app.inject({
        method: 'POST',
        url: '/s/',
        headers: { 'content-type': 'text/plain' },
        payload: gzipSync(JSON.stringify(batch)),
      });
    const recordings = () =>
      queryRows<{ block_count: number }>(ctx.database.db, sql`select block_count from session_recordings where session_id = ${sessionId}`);
    await s3.stop();
    try {
      expect((await send()).statusCode).toBe(500);
      expect(await recordings()).toEqual([]);
    } finally {
      await s3.start();
    }
    expect((await send()).statusCode).toBe(200);
    expect(await recordings()).toEqual([{ block_count: 1 }]);
    expect(await s3.keys()).toHaveLength(1);
  });
});
