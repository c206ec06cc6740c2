import { gunzipSync, gzipSync } from 'node:zlib';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingBlocks, recordingConsoleLogs, sessionRecordings } from '../../../src/db/schema/index.js';
import { expectError, ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Factories, type Tenant } from '../../helpers/factories.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const uuid = (n: number) => `0190a0b0-0000-7000-9000-${String(n).padStart(12, '0')}`;

/** A FullSnapshot as posthog-js sends it with event compression on: `data` is gzip bytes written as latin-1. */
const compressedFullSnapshot = (ts: number) => ({
  type: 2,
  cv: '2024-10',
  timestamp: ts,
  data: gzipSync(JSON.stringify({ node: { type: 0, childNodes: [] }, initialOffset: { top: 0, left: 0 } })).toString('latin1'),
});
const meta = (ts: number, href: string) => ({ type: 4, timestamp: ts, data: { href, width: 1024, height: 768 } });
const click = (ts: number) => ({ type: 3, timestamp: ts, data: { source: 2, type: 2, id: 5, x: 10, y: 20 } });
const input = (ts: number) => ({ type: 3, timestamp: ts, data: { source: 5, text: 'a', isChecked: false, id: 7 } });
const mouseMove = (ts: number) => ({ type: 3, timestamp: ts, data: { source: 1, positions: [{ x: 1, y: 2, id: 5, timeOffset: 0 }] } });
const consoleEvent = (ts: number, level: string, message: string) => ({
  type: 6,
  timestamp: ts,
  data: { plugin: 'rrweb/console@1', payload: { level, payload: [message], trace: [] } },
});

describe('capture: session recordings (/s/)', () => {
  let ctx: TestContext;
  let make: Factories;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
    tenant = await make.tenant();
    token = await make.projectToken(tenant);
  });
  afterAll(() => ctx.close());

  const snapshot = (n: number, sessionId: string, items: object[], extra: Record<string, unknown> = {}) => ({
    uuid: uuid(n),
    event: '$snapshot',
    properties: { $snapshot_data: items, $session_id: sessionId, $window_id: `${sessionId}-w`, distinct_id: 'visitor-1', token, $lib: 'web', ...extra },
  });
  const send = (batch: object[], headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'POST', url: '/s/?ver=1.449.2', headers: { 'content-type': 'text/plain', ...headers }, payload: gzipSync(JSON.stringify(batch)) });
  const recording = async (sessionId: string) =>
    (await ctx.database.db.select().from(sessionRecordings).where(and(eq(sessionRecordings.teamId, tenant.teamId), eq(sessionRecordings.sessionId, sessionId))))[0];
  const blocks = (sessionId: string) =>
    ctx.database.db
      .select()
      .from(recordingBlocks)
      .where(and(eq(recordingBlocks.teamId, tenant.teamId), eq(recordingBlocks.sessionId, sessionId)))
      .orderBy(asc(recordingBlocks.firstTimestamp));

  it('stores the rrweb events untouched as [windowId, event] lines and computes the recording’s metadata', async () => {
    const items = [
      meta(T0, 'https://shop.example.com/'),
      compressedFullSnapshot(T0 + 1),
      mouseMove(T0 + 1000),
      click(T0 + 2000),
      input(T0 + 3000),
      // 10 s of nothing: a second active segment
      click(T0 + 13_000),
      input(T0 + 14_000),
      consoleEvent(T0 + 14_500, 'log', 'hello'),
      consoleEvent(T0 + 14_600, 'warn', 'careful'),
      consoleEvent(T0 + 14_700, 'error', 'broken'),
      consoleEvent(T0 + 14_800, 'assert', 'broken too'),
      { type: 3, timestamp: 0, data: { source: 2, type: 2 } },
    ];
    const response = await send([snapshot(1, 'session-a', items)], { 'user-agent': 'Mozilla/5.0' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ status: 'Ok' });

    const row = await recording('session-a');
    expect(row).toMatchObject({
      distinctId: 'visitor-1',
      clickCount: 2,
      keypressCount: 2,
      mouseActivityCount: 3,
      // segments 1000..3000 and 13000..14000
      activeMilliseconds: 3000,
      consoleLogCount: 1,
      consoleWarnCount: 1,
      consoleErrorCount: 2,
      firstUrl: 'https://shop.example.com/',
      urls: ['https://shop.example.com/'],
      eventCount: 11,
      messageCount: 1,
      blockCount: 1,
      snapshotSource: 'web',
      snapshotLibrary: 'web',
    });
    expect(Date.parse(row!.startTime)).toBe(T0);
    expect(Date.parse(row!.endTime)).toBe(T0 + 14_800);

    const [block] = await blocks('session-a');
    const content = gunzipSync((await ctx.services.blobs.get(block!.blobKey))!);
    const lines = content.toString('utf8').split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(11);
    expect(lines[0]).toEqual(['session-a-w', items[0]]);
    // The cv-compressed snapshot comes back byte for byte, NUL characters included, for the player to inflate.
    expect(lines[1]).toEqual(['session-a-w', items[1]]);
    expect(JSON.parse(gunzipSync(Buffer.from(lines[1][1].data, 'latin1')).toString())).toMatchObject({ node: { type: 0 } });
    expect(row!.size).toBe(content.length + 11);
  });

  it('counts a batch sent again once, and adds each new block to the recording', async () => {
    const first = snapshot(10, 'session-b', [meta(T0 + 60_000, 'https://shop.example.com/later'), click(T0 + 61_000)]);
    expect((await send([first])).statusCode).toBe(200);
    expect((await send([first])).statusCode).toBe(200);
    expect(await recording('session-b')).toMatchObject({ clickCount: 1, blockCount: 1, messageCount: 1 });

    // An earlier block arriving later becomes the start and the first URL.
    const earlier = snapshot(11, 'session-b', [meta(T0, 'https://shop.example.com/start'), click(T0 + 500)]);
    expect((await send([earlier])).statusCode).toBe(200);
    const row = await recording('session-b');
    expect(row).toMatchObject({
      clickCount: 2,
      blockCount: 2,
      firstUrl: 'https://shop.example.com/start',
      urls: ['https://shop.example.com/start', 'https://shop.example.com/later'],
    });
    expect(Date.parse(row!.startTime)).toBe(T0);
    expect(Date.parse(row!.endTime)).toBe(T0 + 61_000);
    expect((await blocks('session-b')).map((b) => b.uuid)).toEqual([uuid(11), uuid(10)]);
  });

  it('stores many requests sent at once, sharing statements, as each sent alone: every block once, counts added up', async () => {
    // More requests than CAPTURE_CONCURRENT_WRITES: on Postgres the waiting ones share statements. One is sent twice.
    const sent = Array.from({ length: 12 }, (_, n) =>
      snapshot(100 + n, 'session-many', [meta(T0 + (12 - n) * 1000, `https://shop.example.com/page-${12 - n}`), click(T0 + (12 - n) * 1000 + 10), consoleEvent(T0 + (12 - n) * 1000 + 20, 'warn', `warned ${n % 3}`)]),
    );
    const responses = await Promise.all([...sent, sent[4]!].map((event) => send([event])));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(13).fill(200));
    const row = await recording('session-many');
    expect(row).toMatchObject({ clickCount: 12, consoleWarnCount: 12, blockCount: 12, messageCount: 12, firstUrl: 'https://shop.example.com/page-1' });
    // Every URL once, the earliest first (blocks arriving out of order append later URLs as they come).
    expect(row!.urls[0]).toBe('https://shop.example.com/page-1');
    expect([...row!.urls].sort()).toEqual(Array.from({ length: 12 }, (_, n) => `https://shop.example.com/page-${n + 1}`).sort());
    expect(Date.parse(row!.startTime)).toBe(T0 + 1000);
    expect(Date.parse(row!.endTime)).toBe(T0 + 12_020);
    expect((await blocks('session-many')).map((b) => b.uuid)).toEqual(sent.map((event) => event.uuid).reverse());
  });

  it('groups by each event’s own session and window, a missing window being the session', async () => {
    const { $window_id: _dropped, ...noWindow } = snapshot(21, 'session-d', [click(T0 + 10)]).properties;
    const response = await send([snapshot(20, 'session-c', [click(T0)]), { ...snapshot(21, 'session-d', []), properties: noWindow }]);
    expect(response.statusCode).toBe(200);
    expect(await recording('session-c')).toMatchObject({ clickCount: 1 });
    expect((await blocks('session-d'))[0]).toMatchObject({ windowId: 'session-d' });
  });

  it('keeps console messages, deduplicated, only when the project captures console logs', async () => {
    const logs = [consoleEvent(T0, 'log', 'once'), consoleEvent(T0 + 1, 'log', 'once'), consoleEvent(T0 + 2, 'error', 'boom')];
    expect((await send([snapshot(30, 'session-e', logs)])).statusCode).toBe(200);
    const kept = (sessionId: string) =>
      ctx.database.db
        .select({ level: recordingConsoleLogs.level, message: recordingConsoleLogs.message })
        .from(recordingConsoleLogs)
        .where(and(eq(recordingConsoleLogs.teamId, tenant.teamId), eq(recordingConsoleLogs.sessionId, sessionId)));
    expect(await kept('session-e')).toEqual([]);

    ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/`, { capture_console_log_opt_in: true }));
    expect((await send([snapshot(31, 'session-f', logs)])).statusCode).toBe(200);
    expect((await kept('session-f')).sort((a, b) => a.message.localeCompare(b.message))).toEqual([
      { level: 'error', message: 'boom' },
      { level: 'log', message: 'once' },
    ]);
  });

  it('refuses a request with a bad event as PostHog does, storing none of it', async () => {
    const good = snapshot(40, 'session-g', [click(T0)]);
    const cases: [object, string][] = [
      [{ ...snapshot(41, 'x', [click(T0)]), properties: { $snapshot_data: [click(T0)], distinct_id: 'v', token } }, 'replay event submitted without session id'],
      [snapshot(42, 'not a valid id!', [click(T0)]), 'replay event submitted with an invalid session id'],
      [{ ...snapshot(43, 'session-h', []), properties: { $session_id: 'session-h', distinct_id: 'v', token } }, 'replay event submitted without snapshot data'],
    ];
    for (const [bad, detail] of cases) {
      expectError(await send([good, bad]), 400, { type: 'validation_error', code: 'invalid_payload', detail, attr: null });
    }
    expect(await recording('session-g')).toBeUndefined();
  });

  it('answers 413 past 25 MB', async () => {
    const huge = Buffer.alloc(26 * 1024 * 1024, 'a');
    const response = await ctx.app.inject({ method: 'POST', url: '/s/', headers: { 'content-type': 'text/plain' }, payload: huge });
    expect(response.statusCode).toBe(413);
  });

  it('offers recording in the remote config when the project records, on its authorized domains only', async () => {
    const config = async (origin: string) =>
      (await ctx.app.inject({ method: 'GET', url: `/array/${token}/config`, headers: { origin } })).json().sessionRecording;
    expect(await config('https://shop.example.com')).toBe(false);

    ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/`, { session_recording_opt_in: true, session_recording_sample_rate: '0.50' }));
    expect(await config('https://anywhere.test')).toEqual({
      endpoint: '/s/',
      consoleLogRecordingEnabled: true,
      recorderVersion: 'v2',
      sampleRate: '0.50',
      minimumDurationMilliseconds: null,
      linkedFlag: null,
      networkPayloadCapture: null,
      masking: null,
      urlTriggers: [],
      urlBlocklist: [],
      eventTriggers: [],
      triggerMatchType: null,
      scriptConfig: null,
    });

    ok(await tenant.call('PATCH', `/api/projects/${tenant.teamId}/`, { recording_domains: ['https://*.example.com'] }));
    expect(await config('https://shop.example.com')).toMatchObject({ endpoint: '/s/' });
    expect(await config('https://example.org')).toBe(false);
  });
});
