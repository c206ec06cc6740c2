import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { checkChromium, findChromium } from '../../src/browser/chromium.js';
import { BrowserUnavailableError, isPermanentRenderError, TransientRenderError } from '../../src/browser/errors.js';
import { createBrowserPool, POOL_DISABLED_FEATURES, type BrowserPool } from '../../src/browser/pool.js';
import { log, screenshot, useRenderSetup } from '../helpers/browser.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A page on the pool's browser, without any routing: just proves the browser works. */
const usePage = (pool: BrowserPool, holdMs = 0) =>
  pool.withPage({ viewport: { width: 400, height: 300 } }, async (page) => {
    await page.setContent('<p>hello</p>');
    if (holdMs) await sleep(holdMs);
    return page.locator('p').textContent();
  });

describe('finding Chromium', () => {
  it('uses CHROMIUM_PATH when it is an executable, and only then', () => {
    expect(findChromium('/usr/bin/chromium')).toEqual({ found: true, path: '/usr/bin/chromium', source: 'CHROMIUM_PATH' });
    const missing = findChromium('/nonexistent/chromium');
    expect(missing.found).toBe(false);
    expect(!missing.found && missing.problem).toMatch(/CHROMIUM_PATH=\/nonexistent\/chromium is not an executable file/);
    const notExecutable = path.join(mkdtempSync(path.join(tmpdir(), 'burrow-')), 'chromium');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    expect(findChromium(notExecutable).found).toBe(false);
    expect(findChromium(tmpdir()).found).toBe(false);
  });

  it('searches the usual places when CHROMIUM_PATH is unset, and says what to install when none exists', () => {
    expect(findChromium(undefined)).toMatchObject({ found: true, source: 'search' });
    const none = findChromium(undefined, ['/nonexistent/a', '/nonexistent/b']);
    expect(none.found).toBe(false);
    expect(!none.found && none.problem).toMatch(/CHROMIUM_PATH is unset and none of \/nonexistent\/a, \/nonexistent\/b exists.*apt-get install chromium.*CHROMIUM_PATH/);
  });

  it('warns at start-up when there is no browser', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    checkChromium('/nonexistent/chromium', logger);
    checkChromium(undefined, logger);
    const [warning, info] = lines.map((line) => JSON.parse(line) as { level: number; msg: string; chromiumPath?: string });
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toMatch(/No browser to render screenshots with.*Screenshot heatmaps will fail until then/);
    expect(info?.level).toBe(30);
    expect(info?.chromiumPath).toBeTruthy();
  });
});

describe('a pool without a browser', () => {
  it('fails renders for good, saying what to install or set', async () => {
    const pool = createBrowserPool({ chromiumPath: '/nonexistent/chromium', concurrency: 2, recycleAfter: 10, log });
    expect(pool.available).toBe(false);
    const error = await screenshot(pool, 'http://127.0.0.1:9/', 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrowserUnavailableError);
    expect(isPermanentRenderError(error)).toBe(true);
    expect((error as Error).message).toMatch(/CHROMIUM_PATH=\/nonexistent\/chromium.*apt-get install chromium/);
    await pool.close();
  });
});

/** The browser's command line, from chrome://version on a page of its own. */
async function commandLine(browser: Browser): Promise<string[]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto('chrome://version');
    return (await page.locator('#command_line').textContent())!.split(' ');
  } finally {
    await context.close();
  }
}

/** The features of every --disable-features switch, one list per switch. */
const disableFeaturesSwitches = (args: string[]) =>
  args.filter((arg) => arg.startsWith('--disable-features=')).map((arg) => arg.slice('--disable-features='.length).split(','));

/** The URLs of the browser's targets that are Chromium's own pages (chrome://...). */
async function chromeTargets(browser: Browser): Promise<string[]> {
  const session = await browser.newBrowserCDPSession();
  const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: Array<{ url: string }> };
  return targetInfos.map((target) => target.url).filter((url) => url.startsWith('chrome://'));
}

describe('the browser pool', () => {
  // Each test makes the pool it is about.
  const setup = useRenderSetup({ pool: false });

  it('gives Chromium no network of its own: an unrouted page cannot load anything', async () => {
    const pool = createBrowserPool({ concurrency: 1, recycleAfter: 10, log });
    try {
      const before = setup.server.requests.length;
      const error = await pool
        .withPage({}, (page) => page.goto(setup.server.url('/basic.html'), { timeout: 5_000 }))
        .catch((e: unknown) => e);
      expect(String(error)).toMatch(/ERR_NAME_NOT_RESOLVED/);
      expect(setup.server.requests.length).toBe(before);
    } finally {
      await pool.close();
    }
  });

  it("turns off the address bar's WebUI popups, keeping Playwright's own disabled features", async () => {
    const pool = createBrowserPool({ concurrency: 1, recycleAfter: 10, log });
    // What a plain Playwright launch of the same Chromium gets: its one list of disabled features, and the popups
    // made with each window.
    const plain = await chromium.launch({ executablePath: pool.executablePath, headless: true });
    let playwrightFeatures: string[];
    try {
      const switches = disableFeaturesSwitches(await commandLine(plain));
      expect(switches).toHaveLength(1);
      playwrightFeatures = switches[0]!;
      await (await plain.newContext()).newPage();
      await until(async () => (await chromeTargets(plain)).length > 0);
      expect(await chromeTargets(plain)).toContain('chrome://omnibox-popup.top-chrome/');
    } finally {
      await plain.close();
    }

    try {
      const { switches, targets } = await pool.withPage({}, async (page, context) => {
        await page.setContent('<p>hello</p>');
        await sleep(500);
        const browser = context.browser()!;
        return { targets: await chromeTargets(browser), switches: disableFeaturesSwitches(await commandLine(browser)) };
      });
      expect(switches).toEqual([[...playwrightFeatures, ...POOL_DISABLED_FEATURES]]);
      expect(targets).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('relaunches after the browser process is killed, and fails the render it was doing as transient', async () => {
    const pool = createBrowserPool({ concurrency: 2, recycleAfter: 200, log });
    try {
      expect(await usePage(pool)).toBe('hello');
      const { browserPid } = pool.stats();
      expect(browserPid).toBeGreaterThan(0);

      const interrupted = screenshot(pool, setup.server.url('/never-settles.html'), 1024);
      await until(() => setup.server.hits('/poll') > 0);
      process.kill(browserPid!, 'SIGKILL');
      const error = await interrupted.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientRenderError);
      expect((error as Error).message).toBe('Chromium stopped during the render; it is restarted for the next one');
      expect(isPermanentRenderError(error)).toBe(false);
      await until(() => !pool.stats().connected);

      const result = await screenshot(pool, setup.server.url('/basic.html'), 1024);
      expect(result.width).toBe(1024);
      const stats = pool.stats();
      expect(stats).toMatchObject({ launches: 2, crashes: 1, connected: true, active: 0 });
      expect(stats.browserPid).not.toBe(browserPid);
    } finally {
      await pool.close();
    }
  });

  it('recycles the browser after recycleAfter contexts', async () => {
    const pool = createBrowserPool({ concurrency: 2, recycleAfter: 2, log });
    try {
      const pids: Array<number | undefined> = [];
      for (let i = 0; i < 5; i++) {
        await pool.withPage({}, async () => void pids.push(pool.stats().browserPid));
      }
      // Contexts 1-2 on the first browser, 3-4 on the second, 5 on the third.
      expect(pool.stats()).toMatchObject({ launches: 3, recycles: 2, crashes: 0, contexts: 5 });
      expect(pids[0]).toBe(pids[1]);
      expect(pids[2]).toBe(pids[3]);
      expect(new Set(pids).size).toBe(3);
      // The retired browsers were closed, not left running.
      await until(() => [pids[0], pids[2]].every((pid) => !alive(pid!)));
    } finally {
      await pool.close();
    }
  });

  it('keeps at most `concurrency` contexts open, queueing the rest in order', async () => {
    const pool = createBrowserPool({ concurrency: 2, recycleAfter: 200, log });
    try {
      await pool.warmUp();
      const started = Date.now();
      const runs = Array.from({ length: 5 }, () => usePage(pool, 300));
      await sleep(100);
      expect(pool.stats()).toMatchObject({ active: 2, waiting: 3 });
      await Promise.all(runs);
      expect(pool.stats()).toMatchObject({ peakActive: 2, active: 0, waiting: 0, contexts: 5 });
      // Three rounds of 300 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await pool.close();
    }
  });

  it('lets a render that is still waiting for a slot be aborted', async () => {
    const pool = createBrowserPool({ concurrency: 1, recycleAfter: 200, log });
    try {
      const holder = usePage(pool, 500);
      const controller = new AbortController();
      const waiting = pool.withPage({}, async () => 'never', controller.signal);
      await sleep(50);
      expect(pool.stats().waiting).toBe(1);
      controller.abort(new Error('shutting down'));
      await expect(waiting).rejects.toThrow('shutting down');
      expect(pool.stats().waiting).toBe(0);
      await holder;
      expect(await usePage(pool)).toBe('hello');
      expect(pool.stats().contexts).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('releases its slot at once however early a render is aborted (opening the context or the page included)', async () => {
    const pool = createBrowserPool({ concurrency: 1, recycleAfter: 200, log });
    try {
      await pool.warmUp();
      // Delays that land in newContext, in newPage (whose promise never settles when the context closes under it)
      // and in the render proper.
      for (const delayMs of [0, 2, 5, 10, 15, 20, 30, 40, 60, 80, 100, 150, 200]) {
        const controller = new AbortController();
        const rendering = screenshot(pool, setup.server.url('/never-settles.html'), 1024, { signal: controller.signal });
        await sleep(delayMs);
        const abortedAt = Date.now();
        controller.abort(new Error(`aborted after ${delayMs} ms`));
        await expect(rendering).rejects.toThrow(`aborted after ${delayMs} ms`);
        expect(Date.now() - abortedAt).toBeLessThan(2_000);
        expect(pool.stats()).toMatchObject({ active: 0, waiting: 0 });
      }
      expect(await usePage(pool)).toBe('hello');
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('refuses work after close, and fails renders still waiting', async () => {
    const pool = createBrowserPool({ concurrency: 1, recycleAfter: 200, log });
    const holder = usePage(pool, 300);
    const waiting = usePage(pool);
    await sleep(50);
    const closing = pool.close();
    await expect(waiting).rejects.toThrow(/shutting down/);
    await closing;
    await holder.catch(() => undefined);
    await expect(usePage(pool)).rejects.toThrow(/shutting down/);
    expect(pool.stats().connected).toBe(false);
  });
});
