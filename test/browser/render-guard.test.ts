import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isPermanentRenderError, PermanentRenderError, SsrfBlockedError } from '../../src/browser/errors.js';
import { MAX_REDIRECTS } from '../../src/browser/guarded-network.js';
import { createUrlGuard, systemLookup } from '../../src/net/url-guard.js';
import { useRenderSetup } from '../helpers/browser.js';

/**
 * Every navigation, redirect and sub-request of a render passes the SSRF guard, and nothing else leaves the
 * browser. The guard allow-lists 127.0.0.1 (the page server); the canary listens on 127.0.0.2 (loopback, refused)
 * and on a UDP port: whatever reaches it got past the guard.
 */

// Names only the guard knows: app.test is the page server (listed), internal.test the canary (not listed).
const NAMES: Record<string, string[]> = { 'app.test': ['127.0.0.1'], 'internal.test': ['127.0.0.2'] };
const guard = createUrlGuard({
  allowedHosts: ['127.0.0.1', 'app.test'],
  lookup: async (hostname) => NAMES[hostname] ?? systemLookup(hostname),
});

describe('the SSRF guard in renders', () => {
  const setup = useRenderSetup({ guard, canary: true });
  const render = (url: string, width = 1024) => setup.screenshot(url, width);

  it('refuses a URL the guard blocks before opening a page', async () => {
    const before = setup.pool.stats().contexts;
    const error = await render(`${setup.canary.origin}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect((error as Error).message).toBe('SSRF blocked: Local/Loopback host not allowed');
    expect(isPermanentRenderError(error)).toBe(true);
    expect(setup.pool.stats().contexts).toBe(before);
    expect(setup.canary.requests).toEqual([]);
  });

  it('blocks every sub-request to a refused address, and still renders the page', async () => {
    const result = await render(setup.server.url('/ssrf-subrequests.html'));
    // The worker ran (its allowed request arrived), so its blocked request was attempted too.
    await setup.server.waitForRequest('/report');
    expect(setup.server.reports).toContainEqual({ worker: 'ran' });
    expect(setup.canary.requests).toEqual([]);
    // img, redirect hop, named host, iframe, stylesheet, background, fetch, fetch's redirect hop, beacon, worker fetch.
    expect(result.blockedRequests).toBeGreaterThanOrEqual(10);
    const { data } = await sharp(result.jpeg).extract({ left: 10, top: 100, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect([...data]).toEqual([expect.closeTo(0, -1.5), expect.closeTo(255, -1.5), expect.closeTo(0, -1.5)]);
    // The allowed image and the redirect loop (cut after MAX_REDIRECTS hops) went through Node, not the browser.
    expect(setup.server.hits('/img.png')).toBeGreaterThanOrEqual(1);
    expect(setup.server.hits('/loop')).toBe(MAX_REDIRECTS + 1);
  });

  it('gives the browser no network of its own: a host only the guard can resolve still renders', async () => {
    const port = new URL(setup.server.origin).port;
    const result = await render(`http://app.test:${port}/basic.html`);
    expect(result.finalUrl).toBe(`http://app.test:${port}/basic.html`);
    const request = setup.server.requests.findLast((r) => r.path === '/basic.html');
    expect(request?.headers.host).toBe(`app.test:${port}`);
  });

  it('fails for good when the page redirects its main navigation to a refused address', async () => {
    const url = setup.server.url(`/redirect?to=${encodeURIComponent(`${setup.canary.origin}/admin`)}`);
    const error = await render(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect((error as Error).message).toBe('SSRF blocked: Local/Loopback host not allowed');
    expect(setup.canary.requests).toEqual([]);
  });

  it('follows allowed main-frame redirects hop by hop, ending on the final URL', async () => {
    const final = setup.server.url('/basic.html');
    const second = setup.server.url(`/redirect?status=301&to=${encodeURIComponent(final)}`);
    const result = await render(setup.server.url(`/redirect?to=${encodeURIComponent(second)}`));
    expect(result.finalUrl).toBe(final);
    // Relative sub-resources resolved against the final URL.
    const image = setup.server.requests.findLast((r) => r.path === '/img.png');
    expect(image?.headers.referer).toBe(final);
  });

  it('follows a redirect the page navigates to by itself', async () => {
    const result = await render(setup.server.url('/navigates-via-redirect.html'));
    expect(result.finalUrl).toBe(setup.server.url('/basic.html'));
  });

  it('fails for good when the page navigates itself to a refused address', async () => {
    const error = await render(setup.server.url('/navigates-to-canary.html')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect(setup.canary.requests).toEqual([]);
  });

  it('lets no WebSocket (page or worker) and no WebRTC traffic out', async () => {
    const result = await render(setup.server.url('/sockets.html'));
    expect(result.width).toBe(1024);
    expect(setup.server.reports).toContainEqual({ webrtc: 'started' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(setup.server.upgrades).toEqual([]);
    expect(setup.server.reports.filter((r) => r.ws)).toEqual([]);
    expect(setup.canary.requests).toEqual([]);
    expect(setup.canary.datagrams).toBe(0);
  });

  it('fails for good on a URL that is a download, not a page', async () => {
    const error = await render(setup.server.url('/download')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentRenderError);
    expect((error as Error).message).toMatch(/download/);
  });
});
