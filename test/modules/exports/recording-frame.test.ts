import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { decodeRgb, rgbAt } from '../../helpers/images.js';
import { BLUE, contentOf, contextWithWorker, exportAndWait, footerInk, GREEN, RED, replayEvents, type Rgb, sendReplay } from './replay-fixtures.js';

/** Each channel within `tolerance` of the colour. */
const near = (pixel: number[], [r, g, b]: Rgb, tolerance = 12) => Math.abs(pixel[0]! - r) <= tolerance && Math.abs(pixel[1]! - g) <= tolerance && Math.abs(pixel[2]! - b) <= tolerance;

/**
 * image/png of a session recording: the sharing module's player (export mode) paused at export_context.timestamp in
 * real Chromium, through a real worker, answered from the in-process API. The recording's page is red, green from
 * 1 s and blue from 3 s, in two blocks.
 */
describe('recording frame PNG exports', { timeout: 180_000 }, () => {
  let ctx: TestContext;
  let owner: Tenant;
  let stranger: Tenant;
  let close: () => Promise<void>;
  const SESSION = 'frame-session-1';

  beforeAll(async () => {
    ({ ctx, close } = await contextWithWorker({ EXPORT_CREATE_WAIT_SECONDS: '20' }, 2));
    const make = factories(ctx);
    owner = await make.tenant();
    stranger = await make.tenant();
    const start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const events = replayEvents(start, { colours: [RED, [1, GREEN], [3, BLUE]], activity: [[0, 5]], endSeconds: 5 });
    await sendReplay(ctx, await make.projectToken(owner), SESSION, events, 2);
  }, 120_000);

  afterAll(() => close?.());

  it('shows the recording paused at the timestamp, as a viewport of width × height', async () => {
    const early = await exportAndWait(owner, 'image/png', { session_recording_id: SESSION, timestamp: 0.5, width: 800, height: 500 });
    expect(early).toMatchObject({ has_content: true, exception: null, export_format: 'image/png' });
    const late = await exportAndWait(owner, 'image/png', { session_recording_id: SESSION, timestamp: 3.5, width: 800, height: 500 });
    expect(late).toMatchObject({ has_content: true, exception: null });

    const first = await contentOf(owner, early.id);
    expect((await sharp(first).metadata()).format).toBe('png');
    const a = await decodeRgb(first);
    const b = await decodeRgb(await contentOf(owner, late.id));
    expect([a.width, a.height]).toEqual([800, 500]);
    expect([b.width, b.height]).toEqual([800, 500]);
    // The middle of the replay: red at 0.5 s, blue at 3.5 s.
    expect(near(rgbAt(a, 400, 250), RED), String(rgbAt(a, 400, 250))).toBe(true);
    expect(near(rgbAt(b, 400, 250), BLUE), String(rgbAt(b, 400, 250))).toBe(true);
  });

  it('uses 1400 × 600 by default, and the green of 1 s to 3 s at 2 s', async () => {
    const row = await exportAndWait(owner, 'image/png', { session_recording_id: SESSION, timestamp: 2 });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const image = await decodeRgb(await contentOf(owner, row.id));
    expect([image.width, image.height]).toEqual([1400, 600]);
    expect(near(rgbAt(image, 700, 300), GREEN), String(rgbAt(image, 700, 300))).toBe(true);
  });

  it("adds PostHog's metadata footer under the replay with show_metadata_footer, and none without it", async () => {
    const plain = await decodeRgb(await contentOf(owner, (await exportAndWait(owner, 'image/png', { session_recording_id: SESSION, timestamp: 3.5, width: 800, height: 500 })).id));
    // The replay is letterboxed on the player's white: no black at the bottom.
    expect(footerInk(plain).black).toBe(0);
    const row = await exportAndWait(owner, 'image/png', { session_recording_id: SESSION, timestamp: 3.5, width: 800, height: 500, show_metadata_footer: true });
    expect(row).toMatchObject({ has_content: true, exception: null });
    const framed = await decodeRgb(await contentOf(owner, row.id));
    expect([framed.width, framed.height]).toEqual([800, 500]);
    // A black bar with white text (URL: https://shop.example.com/  REC_T: 3), the replay above it.
    const ink = footerInk(framed);
    expect(ink.black + ink.white).toBeGreaterThan(0.9);
    expect(ink.white).toBeGreaterThan(0.01);
    expect(near(rgbAt(framed, 400, 230), BLUE), String(rgbAt(framed, 400, 230))).toBe(true);
  });

  it('makes a one-page PDF of the frame as application/pdf (read back with pdftoppm)', async () => {
    const row = await exportAndWait(owner, 'application/pdf', { session_recording_id: SESSION, timestamp: 3.5, width: 800, height: 500 });
    expect(row).toMatchObject({ has_content: true, exception: null, filename: expect.stringMatching(/\.pdf$/) });
    const scratch = await mkdtemp(path.join(tmpdir(), 'frame-pdf-'));
    try {
      await writeFile(path.join(scratch, 'frame.pdf'), await contentOf(owner, row.id));
      await promisify(execFile)('pdftoppm', ['-r', '96', '-png', '-singlefile', path.join(scratch, 'frame.pdf'), path.join(scratch, 'page')]);
      const page = await decodeRgb(await readFile(path.join(scratch, 'page.png')));
      expect([page.width, page.height]).toEqual([800, 500]);
      expect(near(rgbAt(page, 400, 250), BLUE), String(rgbAt(page, 400, 250))).toBe(true);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('fails with a clear exception for a recording that does not exist, or is in another project', async () => {
    const missing = await exportAndWait(owner, 'image/png', { session_recording_id: 'no-such-session', timestamp: 1 });
    expect(missing).toMatchObject({ has_content: false, exception: 'Session recording no-such-session does not exist in this project' });
    const foreign = await exportAndWait(stranger, 'image/png', { session_recording_id: SESSION, timestamp: 1 });
    expect(foreign).toMatchObject({ has_content: false, exception: `Session recording ${SESSION} does not exist in this project` });
  });
});
