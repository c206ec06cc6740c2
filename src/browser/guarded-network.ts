import { setMaxListeners } from 'node:events';
import type { BrowserContext, Page, Request, Route } from 'playwright-core';
import { GuardedFetchError, guardedFetch, type GuardedResponse } from '../net/guarded-fetch.js';
import type { UrlGuard } from '../net/url-guard.js';
import type { RenderLogger } from './pool.js';

/**
 * Every request of a render's browser context goes through here: the URL passes the
 * SSRF guard and Node performs the request on the vetted address (guardedFetch), and the browser gets the
 * answer through route.fulfill, or a `blockedbyclient` failure when the guard refuses.
 *
 * Redirects: Playwright does not route the hops of a redirect it sees in a fulfilled response; it lets Chromium
 * request the Location itself, unchecked. So no 3xx ever reaches the browser:
 * - a sub-request's redirect is followed here, each hop through guardedFetch again, and the final answer is
 *   fulfilled for the original request (up to MAX_REDIRECTS hops);
 * - a main-frame navigation's redirect is aborted and remembered; the renderer checks the Location and navigates
 *   to it itself (`takeMainFrameRedirect`), so the page's URL and origin are the final ones.
 *
 * Also: WebSockets are refused (routeWebSocket; nothing a screenshot needs), service workers are blocked by the
 * context options, pop-ups are closed, and the browser itself cannot resolve any host (pool.ts), so nothing
 * that escapes routing reaches the network.
 */

export const MAX_REDIRECTS = 20;
const MAX_RECORDED_BLOCKS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface BlockedRequest {
  url: string;
  reason: string;
  mainFrame: boolean;
}

export interface QuietOptions {
  /** How long the network must stay quiet. */
  quietMs: number;
  /** Requests that may stay open while quiet (long polls, analytics beacons): networkidle2 allows 2. */
  maxInflight: number;
  /** Give up (returning false) at this time (Date.now() scale). */
  deadline: number;
  /**
   * Not quiet before this time (Date.now() scale), whatever the network did: requests the page has just started
   * (by an IntersectionObserver callback, say) take a moment to reach Node, and must not be missed.
   */
  notBefore?: number;
  signal?: AbortSignal;
}

export interface GuardedNetwork {
  readonly inflight: number;
  readonly requests: number;
  /** Requests and WebSockets the guard refused (the first MAX_RECORDED_BLOCKS of them are in `blocked`). */
  readonly blockedCount: number;
  readonly blocked: readonly BlockedRequest[];
  /** Resolves true once the network has been quiet for quietMs, false at the deadline. */
  waitForQuiet(options: QuietOptions): Promise<boolean>;
  /** The absolute Location of a main-frame redirect aborted since the last call. */
  takeMainFrameRedirect(): string | undefined;
  /** Why the guard refused a main-frame navigation, if it did. */
  mainFrameBlockedReason(): string | undefined;
  /** The network failure of the last main-frame navigation request, if it failed. */
  mainFrameFailure(): Error | undefined;
  /** Aborts requests still being fetched; later requests are aborted at once. */
  dispose(): void;
}

export interface GuardNetworkOptions {
  guard: UrlGuard;
  /** The render's page: its main frame's navigations are handled as described above. */
  page: Page;
  /** Cap on one response body. */
  maxBytes: number;
  /** Cap on one request (DNS, connect, response). */
  timeoutMs: number;
  signal?: AbortSignal;
  log: RenderLogger;
}

const noop = () => undefined;

export async function guardContextNetwork(context: BrowserContext, options: GuardNetworkOptions): Promise<GuardedNetwork> {
  const { guard, page, log } = options;
  const controller = new AbortController();
  // Every request in flight listens on this signal (guardedFetch): a page has dozens at once, which is expected.
  setMaxListeners(0, controller.signal);
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  let inflight = 0;
  let requests = 0;
  let lastChange = Date.now();
  const blocked: BlockedRequest[] = [];
  let blockedCount = 0;
  const recordBlock = (entry: BlockedRequest) => {
    blockedCount++;
    if (blocked.length < MAX_RECORDED_BLOCKS) blocked.push(entry);
  };
  let mainRedirect: string | undefined;
  let mainBlocked: string | undefined;
  let mainFailure: Error | undefined;

  const isMainFrameNavigation = (request: Request): boolean => {
    try {
      return request.isNavigationRequest() && request.frame() === page.mainFrame();
    } catch {
      return false; // service-worker requests have no frame
    }
  };

  const block = async (route: Route, url: string, reason: string, mainFrame: boolean) => {
    recordBlock({ url, reason, mainFrame });
    if (mainFrame) mainBlocked = reason;
    log.debug({ url, reason, mainFrame }, 'render request blocked by the SSRF guard');
    await route.abort('blockedbyclient').catch(noop);
  };

  const fetchHop = (url: string, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<GuardedResponse> =>
    guardedFetch(guard, { url, method, headers, ...(body && { body }) }, { signal: controller.signal, maxBytes: options.maxBytes, timeoutMs: options.timeoutMs });

  async function handle(route: Route): Promise<void> {
    const request = route.request();
    const mainFrame = isMainFrameNavigation(request);
    if (controller.signal.aborted) return void (await route.abort('aborted').catch(noop));
    if (mainFrame) mainFailure = undefined;
    inflight++;
    requests++;
    lastChange = Date.now();
    try {
      let url = request.url();
      let method = request.method();
      let body = request.postDataBuffer() ?? undefined;
      let headers = await request.allHeaders();
      for (let hop = 0; ; hop++) {
        const response = await fetchHop(url, method, headers, body);
        if (response.blocked) return await block(route, url, response.reason, mainFrame);
        const location = REDIRECT_STATUSES.has(response.status) ? response.headers['location'] : undefined;
        const next = location === undefined ? undefined : resolveLocation(location, url);
        if (next === undefined) {
          await route.fulfill({ status: response.status, headers: response.headers, body: response.body });
          return;
        }
        if (mainFrame) {
          mainRedirect = next;
          await route.abort('aborted');
          return;
        }
        if (hop >= MAX_REDIRECTS) {
          log.info({ url: request.url() }, 'render request redirected too many times');
          await route.abort('failed');
          return;
        }
        // What a browser does on a redirect (fetch spec "HTTP-redirect fetch" step 12): 303, and 301/302 after a
        // POST, become a GET without a body.
        if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = withoutHeaders(headers, ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']);
        }
        headers = await headersForHop(context, headers, url, next);
        url = next;
      }
    } catch (error) {
      if (mainFrame) mainFailure = error instanceof Error ? error : new Error(String(error));
      const code = error instanceof GuardedFetchError ? error.code : 'failed';
      if (!controller.signal.aborted) log.debug({ url: request.url(), err: error }, 'render request failed');
      await route.abort(code).catch(noop);
    } finally {
      inflight--;
      lastChange = Date.now();
    }
  }

  await context.route('**/*', (route) => handle(route));
  await context.routeWebSocket(/.*/, (ws) => {
    recordBlock({ url: ws.url(), reason: 'WebSockets are not allowed in renders', mainFrame: false });
    void ws.close({ code: 1008, reason: 'Blocked' }).catch(noop);
  });
  context.on('page', (opened) => {
    if (opened !== page) void opened.close().catch(noop);
  });

  return {
    get inflight() {
      return inflight;
    },
    get requests() {
      return requests;
    },
    get blockedCount() {
      return blockedCount;
    },
    blocked,
    waitForQuiet({ quietMs, maxInflight, deadline, notBefore = 0, signal }: QuietOptions): Promise<boolean> {
      return new Promise<boolean>((resolve, reject) => {
        const tick = () => {
          if (signal?.aborted) return reject(signal.reason);
          const now = Date.now();
          if (inflight <= maxInflight && now - lastChange >= quietMs && now >= notBefore) return resolve(true);
          if (now >= deadline) return resolve(false);
          // Next look: when the quiet window could be complete, or in 50 ms while requests are still open.
          const wakeAt = inflight <= maxInflight ? Math.max(lastChange + quietMs, notBefore) : now + 50;
          setTimeout(tick, Math.min(50, Math.max(1, Math.min(wakeAt, deadline) - now)));
        };
        tick();
      });
    },
    takeMainFrameRedirect() {
      const next = mainRedirect;
      mainRedirect = undefined;
      return next;
    },
    mainFrameBlockedReason: () => mainBlocked,
    mainFrameFailure: () => mainFailure,
    dispose() {
      options.signal?.removeEventListener('abort', onOuterAbort);
      controller.abort(new GuardedFetchError('Render finished', 'aborted'));
    },
  };
}

function resolveLocation(location: string, base: string): string | undefined {
  try {
    const next = new URL(location, base);
    // The fragment of the original URL carries over when the Location has none (fetch spec).
    if (!next.hash) next.hash = new URL(base).hash;
    return next.href;
  } catch {
    return undefined;
  }
}

function withoutHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

/** Cookies are recomputed for the new URL from the context's jar; credentials do not follow to another origin. */
async function headersForHop(context: BrowserContext, headers: Record<string, string>, from: string, to: string): Promise<Record<string, string>> {
  const sameOrigin = new URL(from).origin === new URL(to).origin;
  const next = withoutHeaders(headers, sameOrigin ? ['cookie'] : ['cookie', 'authorization']);
  const cookies = await context.cookies(to).catch(() => []);
  if (cookies.length > 0) next['cookie'] = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  return next;
}
