import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { capture, record } from '../recordings/fixtures.js';

function parseCsv(text: string): string[][] {
  return text
    .split('\r\n')
    .filter(Boolean)
    .map((line) => line.split(',').map((f) => f.replace(/^"|"$/g, '').replace(/""/g, '"')));
}

describe('exports from export_context.source', () => {
  let ctx: TestContext;
  let owner: Tenant;
  let worker: Worker;
  let base: string;
  const now = Date.now();

  beforeAll(async () => {
    ctx = await createTestContext();
    const make = factories(ctx);
    owner = await make.tenant();
    base = `/api/projects/${owner.teamId}/exports`;
    const token = await make.projectToken(owner);
    for (let i = 0; i < 5; i += 1) {
      await record(ctx, token, { sessionId: `rec-${i}`, distinctId: `user-${i}`, start: now - (i + 1) * 60_000, durationSeconds: 10 + i, url: 'https://example.com/a' });
    }
    await capture(ctx, token, [
      ...Array.from({ length: 5 }, (_, i) => ({
        event: 'signup',
        distinct_id: `user-${i}`,
        timestamp: new Date(now - i * 1000).toISOString(),
        properties: { plan: i % 2 === 0 ? 'free' : 'paid', $browser: i === 0 ? '=HYPERLINK("x")' : 'Firefox' },
      })),
      { event: 'other', distinct_id: 'user-9', timestamp: new Date(now).toISOString(), properties: { plan: 'free' } },
    ]);
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 1, pollIntervalMs: 20, leaseMs: 5000 } });
  });

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
  });

  it('exports an EventsQuery with plain columns and property filters, every page', async () => {
    const created = ok(
      await owner.call('POST', `${base}/`, {
        export_format: 'text/csv',
        export_context: {
          source: {
            kind: 'EventsQuery',
            select: ['event', 'distinct_id', 'properties.plan', 'properties.$browser', 'timestamp'],
            event: 'signup',
            properties: [{ key: 'plan', value: 'free', operator: 'exact', type: 'event' }],
            limit: 2,
          },
        },
      }),
      201,
    );
    expect(created.exception).toBeNull();
    const rows = parseCsv((await owner.call('GET', `${base}/${created.id}/content/`)).body);
    expect(rows[0]).toEqual(['event', 'distinct_id', 'properties.plan', 'properties.$browser', 'timestamp']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['user-0', 'user-2', 'user-4']);
    // Formula injection: the cell starting with = is written with a leading quote.
    expect(rows[1]![3]).toBe(`'=HYPERLINK(x)`.replace('(x)', '("x")'));
  });

  it('fails an EventsQuery column it cannot answer, naming the supported ones', async () => {
    const created = ok(
      await owner.call('POST', `${base}/`, { export_format: 'text/csv', export_context: { source: { kind: 'EventsQuery', select: ['count()'] } } }),
      201,
    );
    expect(created.exception).toBe('EventsQuery column "count()" is not supported: use *, event, timestamp, distinct_id, person, uuid, properties.<name>');
  });

  it('exports a RecordingsQuery through the recordings list, following its cursor', async () => {
    const list = ok(await owner.call('GET', `/api/projects/${owner.teamId}/session_recordings/?date_from=-1d&limit=100`));
    expect(list.results).toHaveLength(5);
    const created = ok(
      await owner.call('POST', `${base}/`, { export_format: 'application/json', export_context: { source: { kind: 'RecordingsQuery', date_from: '-1d', limit: 2 } } }),
      201,
    );
    expect(created.exception).toBeNull();
    const exported = (await owner.call('GET', `${base}/${created.id}/content/`)).json() as { id: string }[];
    expect(exported.map((r) => r.id)).toEqual(list.results.map((r: { id: string }) => r.id));
  });
});
