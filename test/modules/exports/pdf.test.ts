import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import type { Worker } from '../../../src/jobs/worker.js';
import { TABLE_ROWS_PER_PAGE } from '../../../src/modules/exports/producers/pdf.js';
import { limitNote, produceTabularFile, type Row, withTempDir } from '../../../src/modules/exports/producers/tabular.js';
import { PDF_ROW_LIMIT } from '../../../src/modules/exports/rules.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { decodeRgb, rgbAt } from '../../helpers/images.js';
import { capture } from '../recordings/fixtures.js';
import { createAndAwait, heatmapClicks, savedHeatmap } from './fixtures.js';

/**
 * application/pdf exports (a Burrow extension), read back with poppler-utils (pdftoppm, pdftotext: needed by these
 * tests only): a heatmap as a one-page PDF of its PNG, and rows as a paginated table.
 */
const run = promisify(execFile);
const PAGE = 'http://93.184.215.14/pricing';
const WIDTH = 1024;
const HEIGHT = 1200;
const EVENTS = 95;
const COLUMNS = ['event', 'distinct_id', 'properties.plan'];

let scratch: string;

async function pdfFile(pdf: Buffer): Promise<string> {
  const file = path.join(scratch, `${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(file, pdf);
  return file;
}

/** Each page's text, laid out as on the page (pdftotext -layout). */
async function pagesText(file: string): Promise<string[]> {
  const { stdout } = await run('pdftotext', ['-layout', file, '-']);
  return stdout.split('\f').slice(0, -1);
}

const pageCount = async (file: string) => Number(/Pages:\s+(\d+)/.exec((await run('pdfinfo', [file])).stdout)?.[1]);

describe('PDF exports', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let worker: Worker;
  let base: string;
  const exportPdf = (context: Record<string, unknown>) => createAndAwait(owner.call, base, 'application/pdf', context);
  const content = async (row: Record<string, any>) => (await owner.call('GET', `${base}/${row.id}/content/`)).rawPayload;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'burrow-pdf-test-'));
    ctx = await createTestContext({ EXPORT_CREATE_WAIT_SECONDS: '10' });
    const make = factories(ctx);
    owner = await make.tenant();
    base = `/api/projects/${owner.teamId}/exports`;
    const token = await make.projectToken(owner);
    worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency: 2, pollIntervalMs: 20, leaseMs: 5000 } });

    // A saved heatmap of the page with a white screenshot, and ten clicks at (512, 150).
    const white = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 255, g: 255, b: 255 } } }).jpeg({ quality: 90 }).toBuffer();
    await savedHeatmap(ctx, owner.teamId, PAGE, white, { ageMs: 60_000, width: WIDTH });
    for (let i = 0; i < 10; i++) await heatmapClicks(ctx, token, PAGE, [{ x: 512, y: 150 }], WIDTH);

    // Rows for the tables: newest first, user-000 to user-094, with text PDF strings must escape or cannot hold.
    const now = Date.now();
    await capture(
      ctx,
      token,
      Array.from({ length: EVENTS }, (_, i) => ({
        event: 'signup',
        distinct_id: `user-${String(i).padStart(3, '0')}`,
        timestamp: new Date(now - i * 1000).toISOString(),
        properties: { plan: i === 0 ? 'pro (annual) \\ Zürich – 日本' : i % 2 === 0 ? 'free' : 'paid' },
      })),
    );
  });

  afterAll(async () => {
    await worker?.stop();
    await ctx?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('writes a heatmap as a one-page PDF of its PNG, the overlay drawn as in the PNG', async () => {
    const row = await exportPdf({ heatmap_url: PAGE, date_from: '-1d', filename: 'pricing' });
    expect(row).toMatchObject({ has_content: true, exception: null, export_format: 'application/pdf' });
    expect(row.filename).toMatch(/^pricing-\d{4}-\d{2}-\d{2}-\d{6}\.pdf$/);
    const response = await owner.call('GET', `${base}/${row.id}/content/`);
    expect(response.headers['content-type']).toMatch(/^application\/pdf/);
    expect(response.rawPayload.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
    const file = await pdfFile(response.rawPayload);
    expect(await pageCount(file)).toBe(1);

    // At 96 dpi the page is the image, pixel for pixel.
    await run('pdftoppm', ['-r', '96', '-png', file, path.join(scratch, 'heatmap')]);
    const [png] = (await readdir(scratch)).filter((f) => f.startsWith('heatmap') && f.endsWith('.png'));
    const page = await decodeRgb(await readFile(path.join(scratch, png!)));
    expect([page.width, page.height]).toEqual([WIDTH, HEIGHT]);
    const [r, g, b] = rgbAt(page, 512, 150);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(120);
    expect(b).toBeLessThan(60);
    // Away from the point the white screenshot; the legend's corner is there too.
    for (const [x, y] of [[100, 1100], [900, 600], [20, 150]] as const) expect(rgbAt(page, x, y)).toEqual([255, 255, 255]);
    expect(rgbAt(page, WIDTH - 100, 35)).not.toEqual([255, 255, 255]);
  });

  it('writes the rows of a source as a table: the header on every page, 40 rows a page, in order', async () => {
    const row = await exportPdf({ source: { kind: 'EventsQuery', select: COLUMNS, event: 'signup' } });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const file = await pdfFile(await content(row));
    const pages = await pagesText(file);
    expect(pages).toHaveLength(Math.ceil(EVENTS / TABLE_ROWS_PER_PAGE));
    expect(await pageCount(file)).toBe(3);
    pages.forEach((text, p) => {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      expect(lines[0]!.trim().split(/\s+/)).toEqual(COLUMNS);
      const rows = lines.filter((l) => /^\s*signup\s/.test(l));
      const expected = Array.from({ length: EVENTS }, (_, i) => i).slice(p * TABLE_ROWS_PER_PAGE, (p + 1) * TABLE_ROWS_PER_PAGE);
      expect(rows.map((l) => l.trim().split(/\s+/)[1])).toEqual(expected.map((i) => `user-${String(i).padStart(3, '0')}`));
      for (const [n, i] of expected.entries()) if (i > 0) expect(rows[n]!.trim().split(/\s+/)[2]).toBe(i % 2 === 0 ? 'free' : 'paid');
      expect(lines.at(-1)!.trim()).toBe(`Page ${p + 1}`);
    });
    // ( ) and \ escaped, Latin-1 and WinAnsi's dash kept, what Helvetica's encoding lacks replaced.
    expect(pages[0]).toContain('pro (annual) \\ Zürich – ??');
  });

  it('takes the rows of an API path, with the columns asked for', async () => {
    const row = await exportPdf({ path: `${base}/`, columns: ['id', 'export_format', 'export_context.heatmap_url'] });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const [page, ...more] = await pagesText(await pdfFile(await content(row)));
    expect(more).toEqual([]);
    const lines = page!.split('\n').filter((l) => l.trim() !== '');
    expect(lines[0]!.trim().split(/\s+/)).toEqual(['id', 'export_format', 'export_context.heatmap_url']);
    // Every export of the user, this one included, newest first.
    const listed = ok(await owner.call('GET', `${base}/?limit=100`)).results;
    expect(lines.slice(1, -1).map((l) => l.trim().split(/\s+/))).toEqual(
      listed.map((r: { id: number; export_format: string; export_context: Record<string, unknown> }) => [String(r.id), r.export_format, ...(r.export_context.heatmap_url ? [r.export_context.heatmap_url] : [])]),
    );
  });

  it('fails a recording frame of a missing recording (recording-frame.test.ts has a real one) and a PDF with nothing to draw', async () => {
    expect((await exportPdf({ session_recording_id: 'abc', timestamp: 3 })).exception).toBe('Session recording abc does not exist in this project');
    expect((await exportPdf({ filename: 'x' })).exception).toBe('Export is missing export_context.path or export_context.source (or heatmap_url, for a heatmap)');
    const refused = await owner.call('POST', `${base}/`, { export_format: 'application/pdf', export_context: { source: { kind: 'TrendsQuery' } } });
    expect(refused.statusCode).toBe(400);
  });

  const tableOf = (rows: Row[] | (() => AsyncGenerator<Row>)) =>
    withTempDir(async (dir) => {
      const source = typeof rows === 'function' ? rows() : (async function* () { yield* rows; })();
      return pagesText(await produceTabularFile(source, { format: 'pdf' }, new AbortController().signal, dir));
    });

  it('cuts a cell too long for its column, and keeps short columns whole', async () => {
    const [page] = await tableOf([{ a: 1, long: 'word '.repeat(200), b: 'end' }]);
    const [header, cells] = page!.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s{2,}/));
    expect(header).toEqual(['a', 'long', 'b']);
    expect(cells![0]).toBe('1');
    expect(cells![1]).toMatch(/^(word ){20,}\w*\.\.\.$/);
    expect(cells![1]!.length).toBeLessThan(200);
    expect(cells![2]).toBe('end');
  });

  it(`stops a table at ${PDF_ROW_LIMIT} rows, with the note on the last page`, async () => {
    const pages = await tableOf(async function* () {
      for (let i = 0; i < PDF_ROW_LIMIT + 5; i += 1) yield { i };
    });
    expect(pages).toHaveLength(PDF_ROW_LIMIT / TABLE_ROWS_PER_PAGE + 1);
    const last = pages.at(-1)!.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(last).toEqual(['i', limitNote(PDF_ROW_LIMIT), `Page ${pages.length}`]);
    expect(pages.at(-2)!.split('\n').map((l) => l.trim()).filter(Boolean).at(-2)).toBe(String(PDF_ROW_LIMIT - 1));
  });
});
