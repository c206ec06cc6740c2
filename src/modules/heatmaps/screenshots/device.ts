import type { BrowserContextOptions } from 'playwright-core';

/** Widths below this are rendered as a phone (PostHog: `is_mobile = w < 500`). */
export const MOBILE_BREAKPOINT = 500;
export const VIEWPORT_HEIGHT = 800;
/** PostHog's mobile user agent, verbatim. */
export const MOBILE_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/115.0.0.0 Mobile/15E148 Safari/604.1';

export type DeviceKind = 'mobile' | 'desktop';

export const deviceKind = (width: number): DeviceKind => (width < MOBILE_BREAKPOINT ? 'mobile' : 'desktop');

/**
 * A desktop Chrome user agent for the running browser's major version. Headless Chromium's own says
 * "HeadlessChrome", which bot protection turns away (PostHog's heatmaps_utils.py). Linux, to agree with
 * navigator.platform and the engine's real features.
 */
export function desktopUserAgent(browserVersion: string): string {
  const major = /^(\d+)\./.exec(browserVersion)?.[1] ?? '130';
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}

/**
 * PostHog's context for one width. All widths of one kind get the same options but the viewport and screen. The
 * viewport is VIEWPORT_HEIGHT tall unless told otherwise (a heatmap export's export_context.height).
 */
export function contextOptionsFor(width: number, browserVersion: string, height = VIEWPORT_HEIGHT): BrowserContextOptions {
  const mobile = deviceKind(width) === 'mobile';
  return {
    viewport: { width, height },
    screen: { width, height },
    deviceScaleFactor: 1,
    isMobile: mobile,
    hasTouch: mobile,
    userAgent: mobile ? MOBILE_USER_AGENT : desktopUserAgent(browserVersion),
    locale: 'en-US',
    // Workers that could fetch behind the route's back.
    serviceWorkers: 'block',
    acceptDownloads: false,
    // So the banner and scrollbar styles apply on pages whose CSP forbids inline styles.
    bypassCSP: true,
  };
}
