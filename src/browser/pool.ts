import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { BaseLogger } from 'pino';
import { untilAborted } from '../lib/abort.js';
import { findChromium, missingChromium } from './chromium.js';
import { BrowserUnavailableError, firstLine, TransientRenderError } from './errors.js';

/**
 * One warm Chromium per process: launched on first use (Playwright itself is loaded then too: about 85 MB that a
 * server which never renders does not pay), one browser
 * context per render, a semaphore bounding how many contexts are open at once, a fresh browser after
 * `recycleAfter` contexts (the old one closes once its last context does), and a relaunch on the next render when
 * the browser process dies.
 *
 * Chromium gets no network of its own: `--host-resolver-rules=MAP * ~NOTFOUND` makes every connection it would
 * open itself fail (IP literals included), and WebRTC may not send UDP. Renders fetch through
 * `context.route` in Node (see guarded-network.ts), so anything that slips past the route (a redirect hop
 * Playwright continues on its own, a WebSocket from a worker, a preconnect) goes nowhere.
 */

export type RenderLogger = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>;

/**
 * Playwright's own `--disable-features` list (playwright-core's chromiumSwitches, for the version package-lock.json
 * pins). Chromium reads only the last `--disable-features` switch, so turning off a feature of our own means passing
 * Playwright's list again; test/browser/render-browser.test.ts fails when an upgrade of Playwright changes it.
 */
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
] as const;

/**
 * Each browser context is a window, and Chromium gives every window two WebUI renderers, made in advance, for its
 * address bar's suggestion popups (chrome://omnibox-popup.top-chrome/). A render never shows them; they cost about
 * 75 MiB and a few hundred ms of CPU per context (bench/screenshots/README.md).
 */
export const POOL_DISABLED_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'] as const;

const disableFeaturesArg = (features: readonly string[]) => `--disable-features=${features.join(',')}`;

/** The flags every browser of the pool starts with. */
export const BASE_LAUNCH_ARGS = [
  disableFeaturesArg([...PLAYWRIGHT_DISABLED_FEATURES, ...POOL_DISABLED_FEATURES]),
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--mute-audio',
  '--force-device-scale-factor=1',
] as const;

/** Chromium cannot reach any host by itself; every byte it gets comes through the guarded route. */
export const NETWORK_LOCKDOWN_ARGS = ['--host-resolver-rules=MAP * ~NOTFOUND', '--webrtc-ip-handling-policy=disable_non_proxied_udp'] as const;

export interface BrowserPoolOptions {
  /** CHROMIUM_PATH; when unset, CHROMIUM_CANDIDATES are tried. */
  chromiumPath?: string;
  /** Browser contexts open at once (RENDER_CONCURRENCY). */
  concurrency: number;
  /** Contexts a browser serves before it is replaced (RENDER_RECYCLE_AFTER). */
  recycleAfter: number;
  log: RenderLogger;
  /** How long Chromium may take to start; default 30 s. */
  launchTimeoutMs?: number;
}

/** What a context is created with; a function gets the running browser's version (for a matching user agent). */
export type ContextOptionsInput = BrowserContextOptions | ((browser: { version: string }) => BrowserContextOptions);

export interface BrowserPoolStats {
  /** Browsers started, the first one included. */
  launches: number;
  /** Browsers that exited without being asked to (crash, killed); each is replaced on the next render. */
  crashes: number;
  /** Browsers retired after `recycleAfter` contexts. */
  recycles: number;
  /** Contexts created since the pool started. */
  contexts: number;
  /** Contexts open now. */
  active: number;
  /** The most contexts ever open at once. */
  peakActive: number;
  /** Renders waiting for a free slot. */
  waiting: number;
  /** Whether a browser is running and connected now. */
  connected: boolean;
  browserVersion: string | undefined;
  /** The current browser's process id (for operators; tests kill it). */
  browserPid: number | undefined;
}

export interface BrowserPool {
  /** Whether a browser executable was found; when false, withPage fails with BrowserUnavailableError. */
  readonly available: boolean;
  readonly executablePath: string | undefined;
  /**
   * Opens a fresh context and page on the warm browser (launching it first if needed), runs fn, and closes the
   * context whatever happens. Waits for a free slot first. Aborting the signal closes the context (so whatever fn
   * awaits on the page fails) and makes withPage reject with the signal's reason at once, without waiting for fn.
   */
  withPage<T>(contextOptions: ContextOptionsInput, fn: (page: Page, context: BrowserContext) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Starts the browser now rather than on the first render. */
  warmUp(): Promise<void>;
  stats(): BrowserPoolStats;
  /** Refuses new work, fails waiting renders, closes every browser. */
  close(): Promise<void>;
}

interface Generation {
  browser: Browser;
  version: string;
  pid: number | undefined;
  contexts: number;
  active: number;
  retiring: boolean;
  closing: boolean;
}

const DEFAULT_LAUNCH_TIMEOUT_MS = 30_000;

export function createBrowserPool(options: BrowserPoolOptions): BrowserPool {
  const { log } = options;
  const location = findChromium(options.chromiumPath);
  const concurrency = Math.max(1, options.concurrency);
  const recycleAfter = Math.max(1, options.recycleAfter);

  const counters = { launches: 0, crashes: 0, recycles: 0, contexts: 0, peakActive: 0 };
  let current: Generation | undefined;
  let launching: Promise<Generation> | undefined;
  const generations = new Set<Generation>();
  let closed = false;

  // Semaphore: `slots` free places, FIFO waiters.
  let slots = concurrency;
  const waiters: Array<{ grant: () => void; fail: (error: unknown) => void }> = [];

  function acquireSlot(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (slots > 0 && waiters.length === 0) {
      slots--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = waiters.indexOf(waiter);
        if (index >= 0) waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
    });
  }

  function releaseSlot(): void {
    const next = waiters.shift();
    if (next) next.grant();
    else slots++;
  }

  async function launch(): Promise<Generation> {
    if (!location.found) throw new BrowserUnavailableError(location.problem);
    const started = Date.now();
    let browser: Browser;
    try {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: location.path,
        headless: true,
        args: [...BASE_LAUNCH_ARGS, ...NETWORK_LOCKDOWN_ARGS],
        ignoreDefaultArgs: [disableFeaturesArg(PLAYWRIGHT_DISABLED_FEATURES)],
        timeout: options.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS,
        // The server shuts down gracefully and closes the pool; Chromium also exits when its pipe closes.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
    } catch (error) {
      const missing = missingChromium(location.path);
      if (missing) throw new BrowserUnavailableError(missing, { cause: error });
      throw new TransientRenderError(`Could not start Chromium (${location.path}): ${firstLine(error)}`, { cause: error });
    }
    const generation: Generation = {
      browser,
      version: browser.version(),
      pid: await browserPid(browser),
      contexts: 0,
      active: 0,
      retiring: false,
      closing: false,
    };
    generations.add(generation);
    counters.launches++;
    browser.on('disconnected', () => {
      generations.delete(generation);
      if (current === generation) current = undefined;
      if (!generation.closing) {
        counters.crashes++;
        log.warn({ pid: generation.pid, active: generation.active }, 'Chromium exited unexpectedly; a new one starts with the next render');
      }
    });
    log.info({ pid: generation.pid, version: generation.version, ms: Date.now() - started, launches: counters.launches }, 'Chromium started');
    return generation;
  }

  async function currentGeneration(): Promise<Generation> {
    for (;;) {
      if (current && current.browser.isConnected() && !current.retiring) return current;
      if (!launching) {
        launching = launch().then(
          (generation) => {
            launching = undefined;
            if (closed) {
              void closeGeneration(generation);
              throw new TransientRenderError('The renderer is shutting down');
            }
            current = generation;
            return generation;
          },
          (error: unknown) => {
            launching = undefined;
            throw error;
          },
        );
      }
      await launching;
    }
  }

  async function closeGeneration(generation: Generation): Promise<void> {
    if (generation.closing) return;
    generation.closing = true;
    generations.delete(generation);
    if (current === generation) current = undefined;
    await generation.browser.close().catch(() => undefined);
  }

  async function openContext(contextOptions: ContextOptionsInput): Promise<{ generation: Generation; context: BrowserContext }> {
    // A browser that died a moment ago may not have reported it yet: one more try on a fresh one.
    for (let attempt = 1; ; attempt++) {
      const generation = await currentGeneration();
      generation.contexts++;
      generation.active++;
      counters.contexts++;
      if (generation.contexts >= recycleAfter && !generation.retiring) {
        generation.retiring = true;
        counters.recycles++;
        log.info({ pid: generation.pid, contexts: generation.contexts }, 'recycling Chromium after this render');
      }
      const resolved = typeof contextOptions === 'function' ? contextOptions({ version: generation.version }) : contextOptions;
      try {
        return { generation, context: await generation.browser.newContext(resolved) };
      } catch (error) {
        doneWith(generation);
        if (attempt >= 2 || generation.browser.isConnected()) throw error;
        if (current === generation) current = undefined;
      }
    }
  }

  function doneWith(generation: Generation): void {
    generation.active--;
    if (generation.retiring && generation.active === 0) void closeGeneration(generation);
  }

  function activeCount(): number {
    let active = 0;
    for (const generation of generations) active += generation.active;
    return active;
  }

  return {
    available: location.found,
    executablePath: location.found ? location.path : undefined,

    async withPage<T>(contextOptions: ContextOptionsInput, fn: (page: Page, context: BrowserContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (!location.found) throw new BrowserUnavailableError(location.problem);
      if (closed) throw new TransientRenderError('The renderer is shutting down');
      await acquireSlot(signal);
      let opened: { generation: Generation; context: BrowserContext } | undefined;
      const onAbort = () => void opened?.context.close().catch(() => undefined);
      try {
        signal?.throwIfAborted();
        opened = await openContext(contextOptions);
        counters.peakActive = Math.max(counters.peakActive, activeCount());
        signal?.addEventListener('abort', onAbort, { once: true });
        signal?.throwIfAborted();
        // Once aborted, stop waiting: a newPage the context's close overtakes never settles (Playwright 1.65), and
        // the slot must come free however fn's own awaits end.
        const page = await untilAborted(opened.context.newPage(), signal);
        return await untilAborted(fn(page, opened.context), signal);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (opened) {
          await opened.context.close().catch(() => undefined);
          doneWith(opened.generation);
        }
        releaseSlot();
      }
    },

    async warmUp(): Promise<void> {
      await currentGeneration();
    },

    stats(): BrowserPoolStats {
      const live = current && current.browser.isConnected() ? current : undefined;
      return {
        ...counters,
        active: activeCount(),
        waiting: waiters.length,
        connected: live !== undefined,
        browserVersion: live?.version,
        browserPid: live?.pid,
      };
    },

    async close(): Promise<void> {
      closed = true;
      const error = new TransientRenderError('The renderer is shutting down');
      for (const waiter of waiters.splice(0)) waiter.fail(error);
      await launching?.catch(() => undefined);
      await Promise.all([...generations].map(closeGeneration));
    },
  };
}

/** The browser process id, from Chromium itself (Playwright does not expose the child it spawned). */
async function browserPid(browser: Browser): Promise<number | undefined> {
  try {
    const session = await browser.newBrowserCDPSession();
    const info = (await session.send('SystemInfo.getProcessInfo')) as { processInfo: Array<{ type: string; id: number }> };
    await session.detach().catch(() => undefined);
    return info.processInfo.find((p) => p.type === 'browser')?.id;
  } catch {
    return undefined;
  }
}
