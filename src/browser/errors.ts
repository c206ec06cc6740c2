import { redactUrl } from '../lib/logger.js';

/**
 * Why a render failed, in words fit for a heatmap's `exception` (spec heatmaps.md §4.6), and whether trying
 * again can help. The job handler retries transient failures (2, 4, 8 s) and ends the heatmap at once on a
 * permanent one (§4.2).
 *
 * Permanent: the URL (or a navigation of the page) is refused by the SSRF guard, no browser is installed, the URL
 * is a download rather than a page, the page redirects too often, the screenshot cannot be brought under the byte
 * cap. Transient: timeouts, a browser that crashed or could not start, network errors, anything unexpected.
 */
export class RenderError extends Error {
  override name = 'RenderError';
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class PermanentRenderError extends RenderError {
  override name = 'PermanentRenderError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
  }
}

export class TransientRenderError extends RenderError {
  override name = 'TransientRenderError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** The URL, a redirect or a later navigation of the page was refused by the guard. PostHog's exception text. */
export class SsrfBlockedError extends PermanentRenderError {
  override name = 'SsrfBlockedError';
  constructor(readonly reason: string) {
    super(`SSRF blocked: ${reason}`);
  }
}

/** The page's host name did not resolve when the render started; it may resolve later, so the render is retried. */
export class HostNotResolvedError extends TransientRenderError {
  override name = 'HostNotResolvedError';
  constructor(host: string) {
    super(`Could not resolve host ${host}: the name has no address in this server's DNS`);
  }
}

/** No Chromium to render with: CHROMIUM_PATH points nowhere, or none is installed where we look. */
export class BrowserUnavailableError extends PermanentRenderError {
  override name = 'BrowserUnavailableError';
}

export function isPermanentRenderError(error: unknown): boolean {
  return error instanceof RenderError && error.permanent;
}

/** The first line of an error's message, without Playwright's call log and ANSI colours. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const clean = message.replace(/\u001b\[[0-9;]*m/g, '');
  const line = clean.split('\n').find((l) => l.trim() !== '') ?? clean;
  return line.replace(/^(?:browser|browserContext|page|frame|locator|route)\.\w+: /, '').trim().slice(0, 500);
}

const CLOSED = /Target page, context or browser has been closed|Target closed|Browser has been closed|browser has disconnected|Connection closed|has been closed/i;

/** Maps anything a render can throw to a RenderError with a readable message. */
export function toRenderError(error: unknown, url?: string): RenderError {
  if (error instanceof RenderError) return error;
  const where = url ? ` (${redactUrl(url)})` : '';
  const text = firstLine(error);
  if (error instanceof Error && error.name === 'TimeoutError') return new TransientRenderError(`Render timed out${where}: ${text}`, { cause: error });
  if (CLOSED.test(text)) return new TransientRenderError(`Chromium stopped during the render${where}; it is restarted for the next one`, { cause: error });
  if (/Download is starting/i.test(text)) {
    return new PermanentRenderError(`The URL starts a file download instead of showing a page${where}`, { cause: error });
  }
  return new TransientRenderError(`Render failed${where}: ${text}`, { cause: error });
}
