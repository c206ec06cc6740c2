import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { expect } from 'vitest';
import { startAppWorker } from '../../../src/jobs/app-worker.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { type RawImage, rgbAt } from '../../helpers/images.js';
import type { Tenant } from '../../helpers/factories.js';
import { sleep, waitFor } from '../../helpers/jobs.js';
import { documentSnapshot, nextUuid } from '../recordings/fixtures.js';

/**
 * Recordings for the recording export tests, made of synthetic rrweb events sent through /s/ as posthog-js sends
 * them: a page whose whole background is one colour, changed at given moments, with mouse moves as user activity.
 */

type Event = { type: number; timestamp: number; data: unknown };
export type Rgb = [number, number, number];
export const RED: Rgb = [220, 30, 30];
export const GREEN: Rgb = [30, 180, 60];
export const BLUE: Rgb = [30, 60, 220];

/** A test context (created with `env`) and a job worker running its jobs, `concurrency` at once; close() stops both. */
export async function contextWithWorker(env: Record<string, string>, concurrency: number): Promise<{ ctx: TestContext; close: () => Promise<void> }> {
  const ctx = await createTestContext(env);
  const worker = await startAppWorker({ queue: ctx.services.queue, jobs: ctx.services.jobs, log: pino({ level: 'silent' }), settings: { concurrency, pollIntervalMs: 20, leaseMs: 30_000 } });
  return {
    ctx,
    close: async () => {
      await worker.stop();
      await ctx.close();
    },
  };
}

const css = ([r, g, b]: Rgb) => `margin: 0; height: 100%; background: rgb(${r}, ${g}, ${b});`;

const meta = (timestamp: number): Event => ({ type: 4, timestamp, data: { href: 'https://shop.example.com/', width: 1000, height: 600 } });
/** <html><body style="background: …"> (body is node 5). */
const fullSnapshot = (timestamp: number, colour: Rgb): Event => documentSnapshot(timestamp, { attributes: { style: css(colour) } }, { style: 'height: 100%' });
const paint = (timestamp: number, colour: Rgb): Event => ({
  type: 3,
  timestamp,
  data: { source: 0, texts: [], attributes: [{ id: 5, attributes: { style: css(colour) } }], removes: [], adds: [] },
});
const mouseMove = (timestamp: number, i: number): Event => ({ type: 3, timestamp, data: { source: 1, positions: [{ x: 20 + (i % 40) * 10, y: 20, id: 5, timeOffset: 0 }] } });

export interface ReplaySpec {
  /** The colour from the start, then [second, colour] changes. */
  colours: [Rgb, ...[number, Rgb][]];
  /** Spans of user activity [from, to] in seconds: a mouse move every 0.5 s. */
  activity: [number, number][];
  /** The recording's last event, in seconds. */
  endSeconds: number;
}

/** The recording's events, from `start` (ms since the epoch). */
export function replayEvents(start: number, spec: ReplaySpec): Event[] {
  const at = (seconds: number) => start + Math.round(seconds * 1000);
  const [first, ...changes] = spec.colours;
  const moves = spec.activity.flatMap(([from, to]) => Array.from({ length: Math.floor((to - from) * 2) + 1 }, (_, i) => at(from + i / 2)));
  const events = [meta(at(0)), fullSnapshot(at(0) + 5, first), ...changes.map(([s, colour]) => paint(at(s), colour)), ...moves.map((t, i) => mouseMove(t, i)), paint(at(spec.endSeconds), changes.at(-1)?.[1] ?? first)];
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

/** Sends the recording through /s/, `blocks` $snapshot requests (one block each). */
export async function sendReplay(ctx: TestContext, projectToken: string, sessionId: string, events: Event[], blocks = 1): Promise<void> {
  const size = Math.ceil(events.length / blocks);
  for (let i = 0; i < blocks; i++) {
    const batch = [
      {
        uuid: nextUuid(),
        event: '$snapshot',
        properties: { token: projectToken, distinct_id: 'visitor', $session_id: sessionId, $window_id: 'window-1', $snapshot_data: events.slice(i * size, (i + 1) * size), $lib: 'web' },
      },
    ];
    const response = await ctx.app.inject({ method: 'POST', url: '/s/', headers: { 'content-type': 'text/plain' }, payload: gzipSync(JSON.stringify(batch)) });
    expect(response.statusCode, response.body).toBe(200);
  }
}

/** Creates an export and waits until its job has finished (content or exception); answers the export. */
export async function exportAndWait(owner: Tenant, format: string, context: Record<string, unknown>, timeoutMs = 120_000) {
  const base = `/api/projects/${owner.teamId}/exports`;
  const created = ok(await owner.call('POST', `${base}/`, { export_format: format, export_context: context }), 201);
  if (created.has_content || created.exception) return created;
  return waitFor(async () => {
    await sleep(300);
    const row = ok(await owner.call('GET', `${base}/${created.id}/`));
    return row.has_content || row.exception ? row : undefined;
  }, timeoutMs);
}

/** The export's file. */
export async function contentOf(owner: Tenant, id: number): Promise<Buffer> {
  const response = await owner.call('GET', `/api/projects/${owner.teamId}/exports/${id}/content/`);
  expect(response.statusCode).toBe(200);
  return response.rawPayload;
}

/**
 * The share of near-black and of near-white pixels in the bottom `band` rows of an image: PostHog's metadata footer
 * is a black bar with white text (URL, REC_T) there.
 */
export function footerInk(image: RawImage, band = 24): { black: number; white: number } {
  let black = 0;
  let white = 0;
  for (let y = image.height - band; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const [r, g, b] = rgbAt(image, x, y);
      if (r! < 40 && g! < 40 && b! < 40) black++;
      else if (r! > 200 && g! > 200 && b! > 200) white++;
    }
  }
  const all = band * image.width;
  return { black: black / all, white: white / all };
}
