import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../../src/db/client.js';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { encodeJwt, JwtAudience } from '../../../src/lib/jwt.js';
import { STUCK_MESSAGE } from '../../../src/modules/exports/rules.js';
import { LIMIT_NOTE } from '../../../src/modules/exports/producers/tabular.js';
import { expectError, invalid, notFound, ok } from '../../helpers/api.js';
import { createTestContext, type TestAccount, type TestContext } from '../../helpers/context.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const silent = pino({ level: 'silent' });

/** RFC 4180 CSV as Burrow writes it (CRLF rows, quoted fields). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += c;
  }
  return rows;
}

describe('exports', () => {
  let ctx: TestContext;
  let account: TestAccount;
  let key: string;
  let call: ReturnType<TestContext['client']>;
  let worker: Worker;
  let base: string;

  beforeAll(async () => {
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '10' });
    account = await ctx.newAccount();
    key = await ctx.newKey(account.user);
    call = ctx.client(key);
    base = `/api/projects/${account.teamId}/exports`;
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: silent, settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 5000 } });
  });

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
  });

  const download = (id: number, as = key) => call('GET', `${base}/${id}/content/?download=true`, undefined, as);

  describe('validation', () => {
    it('refuses in the serializer order with PostHog messages', async () => {
      expectError(await call('POST', `${base}/`, { dashboard: 54321, export_format: 'image/jpeg' }), 400, invalid('Invalid pk "54321" - object does not exist.', 'dashboard', 'does_not_exist'));
      expectError(await call('POST', `${base}/`, { dashboard: 'abc', insight: 1 }), 400, invalid('Incorrect type. Expected pk value, received str.', 'dashboard', 'incorrect_type'));
      expectError(await call('POST', `${base}/`, { dashboard: null, insight: '12' }), 400, invalid('Invalid pk "12" - object does not exist.', 'insight', 'does_not_exist'));
      expectError(await call('POST', `${base}/`, { insight: 7 }), 400, invalid('Invalid pk "7" - object does not exist.', 'insight', 'does_not_exist'));
      expectError(await call('POST', `${base}/`, {}), 400, invalid('This field is required.', 'export_format', 'required'));
      expectError(await call('POST', `${base}/`, { export_format: 'image/jpeg' }), 400, invalid('"image/jpeg" is not a valid choice.', 'export_format', 'invalid_choice'));
      expectError(
        await call('POST', `${base}/`, { export_format: 'text/csv', export_context: {} }),
        400,
        invalid('Either dashboard, insight or export_context is required for an export.', null),
      );
      const heatmap = await call('POST', `${base}/`, { export_format: 'image/png', export_context: { heatmap_url: 'http://127.0.0.1/' } });
      expect(heatmap.statusCode).toBe(400);
      expect(heatmap.json()).toMatchObject({ attr: 'export_context', code: 'invalid_input' });
      expect(heatmap.json().detail).toMatch(/^heatmap_url not allowed: /);
      expectError(
        await call('POST', `${base}/`, { export_format: 'video/mp4', export_context: { filename: 'x' } }),
        400,
        invalid('Video export supports session recordings only.', 'export_format'),
      );
      expectError(
        await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { source: { kind: 'TrendsQuery' } } }),
        400,
        invalid('export_context.source of kind TrendsQuery is not supported: Burrow exports EventsQuery and RecordingsQuery.', 'export_context'),
      );
    });

    it('caps full video exports of recordings at 10 a month', async () => {
      for (let i = 0; i < 10; i += 1) ok(await call('POST', `${base}/`, { export_format: 'video/mp4', export_context: { session_recording_id: `s${i}` } }), 201);
      expectError(
        await call('POST', `${base}/`, { export_format: 'image/gif', export_context: { session_recording_id: 'more' } }),
        400,
        invalid('Your team has reached the limit of 10 full video exports this month.', 'export_limit_exceeded'),
      );
      await ctx.database.db.execute(sql`delete from exported_assets where export_format = 'video/mp4'`);
    });
  });

  it('answers the serializer fields in order, with expiry per format and a read-only expires_after', async () => {
    const body = ok(await call('POST', `${base}/`, { export_format: 'image/png', export_context: { filename: 'My Ünïcode  Report!' }, expires_after: '2099-01-01' }), 201);
    expect(Object.keys(body)).toEqual(['id', 'dashboard', 'insight', 'export_format', 'created_at', 'has_content', 'export_context', 'filename', 'expires_after', 'exception', 'user_access_level']);
    expect(body.filename).toMatch(/^my-unicode-report-\d{4}-\d{2}-\d{2}-\d{6}\.png$/);
    expect(body.user_access_level).toBe('manager');
    const days = (iso: string) => Math.round((Date.parse(iso) - Date.now()) / 86_400_000);
    expect(body.expires_after).toMatch(/T00:00:00Z$/);
    expect(days(body.expires_after)).toBeGreaterThanOrEqual(179);
    expect(body.exception).toBe('Export to format image/png is not supported yet');
    const csv = ok(await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `${base}/` } }), 201);
    expect(days(csv.expires_after)).toBeLessThanOrEqual(7);
    expect(csv.filename).toMatch(/^export-.*\.csv$/);
    const gif = ok(await call('POST', `${base}/`, { export_format: 'image/gif', export_context: { session_recording_id: 'r1' } }), 201);
    expect(days(gif.expires_after)).toBeGreaterThanOrEqual(364);
    await ctx.database.db.execute(sql`delete from exported_assets where export_format = 'image/gif'`);
  });

  it('exports every page of a paginated list as CSV, XLSX and JSON, rows equal to the API', async () => {
    // Enough exports that the listed path (limit=3) takes several pages.
    for (let i = 0; i < 7; i += 1) ok(await call('POST', `${base}/`, { export_format: 'application/pdf', export_context: { filename: `=cmd|${i}`, nested: { a: i } } }), 201);
    const api = ok(await call('GET', `${base}/?limit=1000`));
    const path = `${base}/?limit=3`;

    const csv = ok(await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path } }), 201);
    expect(csv.has_content).toBe(true);
    const response = await call('GET', `${base}/${csv.id}/content/`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv');
    expect(response.headers['cache-control']).toBe('max-age=86400');
    expect(response.headers['content-disposition']).toBeUndefined();
    const [header, ...listed] = parseCsv(response.body);
    // The list the job read already held the CSV export itself.
    expect(listed).toHaveLength(api.count + 1);
    const rows = listed.filter((r) => Number(r[0]) !== csv.id);
    expect(header!.slice(0, 4)).toEqual(['id', 'dashboard', 'insight', 'export_format']);
    expect(header).toContain('export_context.nested.a');
    const idColumn = header!.indexOf('id');
    expect(rows.map((r) => Number(r[idColumn]))).toEqual(api.results.map((r: { id: number }) => r.id));
    // Formula injection: a cell starting with = gets a leading quote.
    const filenameColumn = header!.indexOf('export_context.filename');
    expect(rows.find((r) => r[filenameColumn]?.includes('cmd'))![filenameColumn]).toMatch(/^'=cmd\|/);

    const attachment = await download(csv.id);
    expect(attachment.headers['content-disposition']).toBe(`attachment; filename="${csv.filename}"`);

    const xlsx = ok(await call('POST', `${base}/`, { export_format: XLSX, export_context: { path, columns: ['id', 'export_context'] } }), 201);
    const file = await call('GET', `${base}/${xlsx.id}/content/`);
    expect(file.headers['content-type']).toBe(XLSX);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    const values = sheet.getSheetValues().slice(1).map((r) => (r as unknown[]).slice(1));
    expect(values[0]![0]).toBe('id');
    expect(values[0]).toContain('export_context.filename');
    expect(values[0]).not.toContain('export_format');
    expect(values.slice(1).map((r) => r[0]).filter((id) => id !== xlsx.id && id !== csv.id)).toEqual(api.results.map((r: { id: number }) => r.id));

    const json = ok(await call('POST', `${base}/`, { export_format: 'application/json', export_context: { path } }), 201);
    const jsonFile = await call('GET', `${base}/${json.id}/content/`);
    expect(jsonFile.headers['content-type']).toBe('application/json');
    const parsed = jsonFile.json() as { id: number }[];
    expect(parsed.map((r) => r.id).filter((id) => ![json.id, xlsx.id, csv.id].includes(id))).toEqual(api.results.map((r: { id: number }) => r.id));
    expect(parsed.find((r) => r.id === api.results[0].id)).toEqual(api.results[0]);
  });

  it('records a failed call as the exception: 400 export_failed on content', async () => {
    const failed = ok(await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `/api/projects/999999/exports/` } }), 201);
    expect(failed.exception).toMatch(/^Calling \/api\/projects\/999999\/exports\/ failed with status 404/);
    const content = await call('GET', `${base}/${failed.id}/content/`);
    expect(content.statusCode).toBe(400);
    expect(content.json()).toEqual({ type: 'server_error', code: 'export_failed', detail: failed.exception, attr: null });
  });

  it('answers 425 while the file is produced, and the stuck rewrite after 630 s', async () => {
    const [row] = await queryRows<{ id: number }>(
      ctx.database.db,
      sql`insert into exported_assets (team_id, export_format, created_by_id, export_context) values (${account.teamId}, 'text/csv', ${account.user.id}, '{"path":"/x"}') returning id`,
    );
    expectError(await call('GET', `${base}/${row!.id}/content/`), 425, { type: 'server_error', code: 'export_not_ready', detail: 'This export is still being generated. Please try again shortly.', attr: null });
    await ctx.database.db.execute(sql`update exported_assets set created_at = now() - interval '631 seconds' where id = ${row!.id}`);
    expect(ok(await call('GET', `${base}/${row!.id}/`)).exception).toBe(STUCK_MESSAGE);
    expect((await call('GET', `${base}/${row!.id}/content/`)).json()).toMatchObject({ code: 'export_failed', detail: STUCK_MESSAGE });
    const [stored] = await queryRows<{ exception: string | null }>(ctx.database.db, sql`select exception from exported_assets where id = ${row!.id}`);
    expect(stored!.exception).toBeNull();
  });

  it('has no update or delete, and needs export scopes', async () => {
    const created = ok(await call('POST', `${base}/`, { export_format: 'application/pdf', export_context: { a: 1 } }), 201);
    expect((await call('PATCH', `${base}/${created.id}/`, {})).statusCode).toBe(405);
    expect((await call('DELETE', `${base}/${created.id}/`)).statusCode).toBe(405);
    const readOnly = await ctx.newKey(account.user, { scopes: ['export:read'] });
    expect((await call('GET', `${base}/${created.id}/`, undefined, readOnly)).statusCode).toBe(200);
    expect((await call('POST', `${base}/`, { export_format: 'application/pdf', export_context: { a: 1 } }, readOnly)).json().detail).toBe(
      "API key missing required scope 'export:write'",
    );
    const other = await ctx.newKey(account.user, { scopes: ['heatmap:read'] });
    expect((await call('GET', `${base}/${created.id}/content/`, undefined, other)).json().detail).toBe("API key missing required scope 'export:read'");
    // Both prefixes.
    expect(ok(await call('GET', `/api/environments/${account.teamId}/exports/${created.id}`)).id).toBe(created.id);
  });

  it('shows exports only to their creator; other organizations cannot read or download', async () => {
    const created = ok(await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `${base}/?limit=2` } }), 201);
    const member = await ctx.newMember(account.organizationId);
    const memberKey = await ctx.newKey(member);
    expectError(await call('GET', `${base}/${created.id}/`, undefined, memberKey), 404, notFound());
    expect(ok(await call('GET', `${base}/`, undefined, memberKey)).count).toBe(0);
    const stranger = await ctx.newAccount();
    const strangerKey = await ctx.newKey(stranger.user);
    expect((await call('GET', `${base}/${created.id}/content/`, undefined, strangerKey)).statusCode).toBe(403);
    expectError(await call('GET', `/api/projects/${stranger.teamId}/exports/${created.id}/content/`, undefined, strangerKey), 404, notFound());
  });

  it('serves /exporter/<filename>?token= for a valid token only', async () => {
    const created = ok(await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `${base}/?limit=2` } }), 201);
    const token = await ctx.services.exports.publicToken(created.id);
    const file = await ctx.app.inject({ method: 'GET', url: `/exporter/${created.filename}?token=${token}` });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv');
    const secret = await ctx.services.instance.secretKey();
    const bad = [
      '',
      `?token=${token.slice(0, -2)}xx`,
      `?token=${encodeJwt(secret, { id: created.id }, -10, JwtAudience.exportedAsset)}`,
      `?token=${encodeJwt(secret, { id: created.id }, 600, JwtAudience.sharingPasswordProtected)}`,
      `?token=${encodeJwt('another secret', { id: created.id }, 600, JwtAudience.exportedAsset)}`,
    ];
    for (const query of bad) expectError(await ctx.app.inject({ method: 'GET', url: `/exporter/${created.filename}${query}` }), 404, notFound());
  });

  it("refuses the internal credential for anything but its user's GETs", async () => {
    const secret = await ctx.services.instance.secretKey();
    const token = encodeJwt(secret, { user_id: account.user.id }, 600, JwtAudience.exportInternal);
    expect((await call('GET', `${base}/`, undefined, token)).statusCode).toBe(200);
    expect((await call('POST', `${base}/`, { export_format: 'application/pdf', export_context: { a: 1 } }, token)).statusCode).toBe(401);
    const stranger = await ctx.newAccount();
    expect((await call('GET', `/api/projects/${stranger.teamId}/exports/`, undefined, token)).statusCode).toBe(403);
  });

  it('hides expired exports and purges them and their files', async () => {
    const created = ok(await call('POST', `${base}/`, { export_format: 'text/csv', export_context: { path: `${base}/?limit=2` } }), 201);
    const [before] = await queryRows<{ content_key: string }>(ctx.database.db, sql`select content_key from exported_assets where id = ${created.id}`);
    expect(await ctx.services.blobs.get(before!.content_key)).not.toBeNull();
    await ctx.database.db.execute(sql`update exported_assets set expires_after = now() - interval '1 second' where id = ${created.id}`);
    expectError(await call('GET', `${base}/${created.id}/`), 404, notFound());
    expectError(await call('GET', `${base}/${created.id}/content/`), 404, notFound());
    const log = { info() {}, warn() {}, error() {}, child: () => log } as never;
    await ctx.services.jobs.handlers['exports.purge']!({ job: {} as never, payload: {} as never, signal: new AbortController().signal, log });
    expect(await ctx.services.blobs.get(before!.content_key)).toBeNull();
    const rows = await queryRows(ctx.database.db, sql`select id from exported_assets where id = ${created.id}`);
    expect(rows).toHaveLength(0);
  });

  it('ends a capped export with the note row', () => {
    expect(LIMIT_NOTE).toContain('300000');
  });
});
