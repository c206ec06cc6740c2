import path from 'node:path';
import type { Page } from 'playwright-core';
import type { BrowserPool } from '../../../browser/pool.js';
import { contentSecurityPolicy, recordingPlayerPage } from '../../sharing/index.js';
import { ExportError } from '../errors.js';
import { MAX_IMAGE_SIZE } from '../rules.js';
import type { InternalApi } from '../internal-api.js';

/**
 * Recording exports render the sharing module's player page (export mode) in the warm browser. Chromium never
 * reaches a real Burrow URL: the page has a made-up origin, and every request it makes there is answered from the
 * in-process API (internal-api.ts) as the export's creator; anything else is refused. So jobs run the same in a
 * worker that does not listen on HTTP.
 */
export const PLAYER_ORIGIN = 'http://burrow.export';
const PLAYER_PATH = '/export/player';
/** How long the player may take to show its first frame (PostHog's exporter waits 40 s for the page). */
const LOAD_TIMEOUT_MS = 40_000;
const DEFAULT_SELECTOR = '.replayer-wrapper';

export const FRAME_DEFAULTS = { width: 1400, height: 600 } as const;

export interface RecordingDeps {
  browser: Pick<BrowserPool, 'withPage'>;
  api: Pick<InternalApi, 'fetch'>;
}

export interface RecordingTarget {
  teamId: number;
  recordingId: string;
  /** The internal JWT of the export's creator, sent as a Bearer credential. */
  token: () => Promise<string>;
  signal: AbortSignal;
}

/** A number from export_context (a JSON number or its digits), or undefined when absent or not a number. */
export function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

export const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** PostHog's css_selector rule: a string of at most 100 characters, else .replayer-wrapper. */
export const selectorOf = (value: unknown): string => (typeof value === 'string' && value.trim() !== '' && value.length <= 100 ? value : DEFAULT_SELECTOR);

/** The recording as the player page shows it; a recording the creator cannot see (or that does not exist) fails the export. */
async function recordingOf(api: RecordingDeps['api'], target: RecordingTarget, authorization: string) {
  const response = await api.fetch(`/api/environments/${target.teamId}/session_recordings/${encodeURIComponent(target.recordingId)}/`, { authorization });
  if (response.statusCode === 404) throw new ExportError(`Session recording ${target.recordingId} does not exist in this project`);
  if (response.statusCode !== 200) throw new ExportError(`Could not read session recording ${target.recordingId}: ${response.statusCode} ${response.payload.toString('utf8').slice(0, 300)}`);
  const body = JSON.parse(response.payload.toString('utf8')) as { id: string; recording_duration: number; start_time: string | null; end_time: string | null };
  return { id: body.id, recording_duration: body.recording_duration, start_time: body.start_time, end_time: body.end_time };
}

/**
 * The player page of the recording in export mode, read before a browser is taken: a missing recording fails first.
 * export_context.show_metadata_footer adds PostHog's metadata footer (URL, REC_T, [IDLE]) under the replay.
 */
export async function playerPage(deps: RecordingDeps, target: RecordingTarget, context: Record<string, unknown>): Promise<string> {
  const authorization = `Bearer ${await target.token()}`;
  const recording = await recordingOf(deps.api, target, authorization);
  return recordingPlayerPage(
    { type: 'scene', recording, showMetadataFooter: context.show_metadata_footer === true || context.show_metadata_footer === 'true' },
    { snapshotsUrl: `/api/environments/${target.teamId}/session_recordings/${encodeURIComponent(target.recordingId)}/snapshots/`, authorization, credentials: 'omit' },
    'export',
  );
}

/**
 * Opens the player page (playerPage) on `page`, paused at `seconds`, and waits until it shows that moment (data-state
 * "ready") and `selector` is in the page. The page's requests are answered from the in-process API.
 */
export async function openPlayer(deps: RecordingDeps, page: Page, target: RecordingTarget, html: string, seconds: number, selector: string): Promise<void> {
  const csp = contentSecurityPolicy({ embedded: false, remoteAssets: false });
  await page.route('**/*', async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.origin !== PLAYER_ORIGIN || request.method() !== 'GET') return route.abort('blockedbyclient');
    if (url.pathname === PLAYER_PATH) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers: { 'content-security-policy': csp }, body: html });
    try {
      const sent = await request.headerValue('authorization');
      const response = await deps.api.fetch(`${url.pathname}${url.search}`, sent ? { authorization: sent } : {});
      return await route.fulfill({ status: response.statusCode, contentType: response.contentType, body: response.payload });
    } catch {
      return route.abort('failed').catch(() => undefined);
    }
  });
  await page.goto(`${PLAYER_ORIGIN}${PLAYER_PATH}?t=${seconds}`, { waitUntil: 'domcontentloaded', timeout: LOAD_TIMEOUT_MS });
  const state = await page
    .waitForSelector('body[data-state="ready"], body[data-state="failed"]', { state: 'attached', timeout: LOAD_TIMEOUT_MS })
    .then((body) => body?.getAttribute('data-state'))
    .catch((error: unknown) => {
      if (target.signal.aborted) throw error;
      throw new ExportError(`Timeout while waiting for recording ${target.recordingId} to load`);
    });
  if (state === 'failed') throw new ExportError((await page.textContent('#message'))?.trim() || `Recording ${target.recordingId} could not be played`);
  await page.waitForSelector(selector, { state: 'attached', timeout: LOAD_TIMEOUT_MS }).catch(() => {
    throw new ExportError(`Timeout while waiting for ${selector} in the player of recording ${target.recordingId}`);
  });
}

/** A whole number of CSS pixels from export_context, `fallback` when absent, at most `cap`. */
function sizeOf(value: unknown, fallback: number, cap: number, name: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = numberOf(value);
  if (n === undefined || n < 1) throw new ExportError(`export_context.${name} must be a positive number, not ${JSON.stringify(value)}`);
  return Math.min(cap, Math.round(n));
}

/**
 * image/png of a recording (export_context.session_recording_id): the player paused at `timestamp` seconds from the
 * recording's start, in a `width` × `height` viewport (1400 × 600), once `css_selector` (.replayer-wrapper) is in the
 * page; a screenshot of the viewport, as PostHog's. Writes recording.png in dir and answers its path.
 */
export async function produceRecordingPng(deps: RecordingDeps, target: RecordingTarget, context: Record<string, unknown>, dir: string): Promise<string> {
  const width = sizeOf(context.width, FRAME_DEFAULTS.width, MAX_IMAGE_SIZE.width, 'width');
  const height = sizeOf(context.height, FRAME_DEFAULTS.height, MAX_IMAGE_SIZE.height, 'height');
  const seconds = Math.max(0, numberOf(context.timestamp) ?? 0);
  const file = path.join(dir, 'recording.png');
  const html = await playerPage(deps, target, context);
  await deps.browser.withPage(
    { viewport: { width, height } },
    async (page) => {
      await openPlayer(deps, page, target, html, seconds, selectorOf(context.css_selector));
      // The replay's last changes painted.
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      await page.screenshot({ path: file, type: 'png' });
    },
    target.signal,
  );
  return file;
}
