import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll } from 'vitest';
import { createBrowserPool, type BrowserPool } from '../../src/browser/pool.js';
import type { RenderSettings } from '../../src/modules/heatmaps/screenshots/budgets.js';
import type { ScreenshotResult } from '../../src/modules/heatmaps/screenshots/render-page.js';
import { renderScreenshot, type RenderScreenshotOptions } from '../../src/modules/heatmaps/screenshots/render-widths.js';
import { createUrlGuard, type UrlGuard } from '../../src/net/url-guard.js';
import { startCanary, startPageServer, type Canary, type PageServer } from './page-server.js';

/**
 * What the render tests share: real Chromium (one warm pool per test file), the page server of page-server.ts (and
 * its canary when asked for), a guard that lets the page server's 127.0.0.1 through, and settings short enough
 * for tests.
 */

export const log = pino({ level: 'silent' });

export const settings: RenderSettings = {
  navigationTimeoutMs: 10_000,
  settleTimeoutMs: 2_000,
  heightCapPx: 16_384,
  maxBytes: 20 * 1024 * 1024,
  jpegQuality: 70,
};

/** Lets the page server (127.0.0.1) through; everything else as in production. */
export const guard = createUrlGuard({ allowedHosts: ['127.0.0.1'] });

/** renderScreenshot of `url` at `width` on `pool`, with the tests' guard and settings and consent banners left alone. */
export const screenshot = (pool: BrowserPool, url: string, width: number, extra: Partial<RenderScreenshotOptions> = {}): Promise<ScreenshotResult> =>
  renderScreenshot({ pool, guard, url, width, blockConsentModals: false, settings, log, ...extra });

export interface RenderTestSetup {
  readonly server: PageServer;
  /** Only with `canary: true`. */
  readonly canary: Canary;
  /** Only without `pool: false`. */
  readonly pool: BrowserPool;
  readonly guard: UrlGuard;
  /** `screenshot` on this setup's pool and guard. */
  screenshot(url: string, width: number, extra?: Partial<RenderScreenshotOptions>): Promise<ScreenshotResult>;
}

/**
 * Starts the page server (after the canary, with `canary`) and a warm pool of 2 contexts before the tests of the
 * file or describe it is called in, and closes them after. `pool: false` for tests that make pools of their own.
 */
export function useRenderSetup(options: { guard?: UrlGuard; canary?: boolean; pool?: false } = {}): RenderTestSetup {
  let server: PageServer | undefined;
  let canary: Canary | undefined;
  let pool: BrowserPool | undefined;
  beforeAll(async () => {
    if (options.canary) canary = await startCanary();
    server = await startPageServer(canary ? { canary } : {});
    if (options.pool !== false) {
      pool = createBrowserPool({ concurrency: 2, recycleAfter: 200, log });
      await pool.warmUp();
    }
  });
  afterAll(async () => {
    await pool?.close();
    await server?.close();
    await canary?.close();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not running (not asked of useRenderSetup, or used outside a test)`);
    return value;
  };
  const setup: RenderTestSetup = {
    get server() {
      return started(server, 'The page server');
    },
    get canary() {
      return started(canary, 'The canary');
    },
    get pool() {
      return started(pool, 'The pool');
    },
    guard: options.guard ?? guard,
    screenshot: (url, width, extra = {}) => screenshot(setup.pool, url, width, { guard: setup.guard, ...extra }),
  };
  return setup;
}

export type Rgb = [number, number, number];
export const RED: Rgb = [255, 0, 0];
export const GREEN: Rgb = [0, 255, 0];
export const BLUE: Rgb = [0, 0, 255];
export const WHITE: Rgb = [255, 255, 255];

/** The colour of one pixel of a JPEG. */
export async function pixel(jpeg: Buffer, x: number, y: number): Promise<Rgb> {
  const { data } = await sharp(jpeg).extract({ left: x, top: y, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
  return [data[0] ?? -1, data[1] ?? -1, data[2] ?? -1];
}

/** Whether each channel is within `tolerance` of the expected colour (JPEG blurs edges and shifts colours). */
export const near = (actual: Rgb, expected: Rgb, tolerance = 40) => actual.every((value, i) => Math.abs(value - (expected[i] ?? 0)) <= tolerance);
