import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { TestContext } from '../../helpers/context.js';

let counter = 0;
export const nextUuid = () => `0190a0b0-0000-7000-d000-${String(++counter).padStart(12, '0')}`;

/**
 * rrweb's full snapshot of <!doctype html><html><head></head><body>…</body></html>: the html element is node 3, head 4,
 * body 5 (its children number on from 6, as the caller gives them).
 */
export function documentSnapshot(timestamp: number, body: { attributes?: Record<string, string>; childNodes?: object[] }, htmlAttributes: Record<string, string> = {}) {
  const head = { type: 2, id: 4, tagName: 'head', attributes: {}, childNodes: [] };
  const html = { type: 2, id: 3, tagName: 'html', attributes: htmlAttributes, childNodes: [head, { type: 2, id: 5, tagName: 'body', attributes: body.attributes ?? {}, childNodes: body.childNodes ?? [] }] };
  return { type: 2, timestamp, data: { node: { type: 0, id: 1, childNodes: [{ type: 1, id: 2, name: 'html', publicId: '', systemId: '' }, html] }, initialOffset: { top: 0, left: 0 } } };
}

export interface RecordingSpec {
  sessionId: string;
  distinctId: string;
  /** Milliseconds since the epoch. */
  start: number;
  durationSeconds: number;
  url: string;
  /** Clicks one second apart from the second second on: each is also mouse activity and active time. */
  clicks?: number;
  consoleErrors?: string[];
  /** How many $snapshot events (blocks) the recording is split into, one request each; default 1. */
  blocks?: number;
}

/** The rrweb events of a recording with exactly the counts the spec asks for. */
export function rrwebEvents(spec: RecordingSpec): object[] {
  const { start } = spec;
  return [
    { type: 4, timestamp: start, data: { href: spec.url, width: 1280, height: 800 } },
    ...Array.from({ length: spec.clicks ?? 0 }, (_, i) => ({ type: 3, timestamp: start + (i + 1) * 1000, data: { source: 2, type: 2, id: 1, x: 5, y: 5 } })),
    ...(spec.consoleErrors ?? []).map((message) => ({
      type: 6,
      timestamp: start + 500,
      data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: [message], trace: [] } },
    })),
    { type: 5, timestamp: start + spec.durationSeconds * 1000, data: { tag: 'end', payload: {} } },
  ];
}

/** Sends a recording through /s/ as posthog-js would, in `blocks` requests. */
export async function record(ctx: TestContext, token: string, spec: RecordingSpec): Promise<object[]> {
  const events = rrwebEvents(spec).sort((a, b) => (a as { timestamp: number }).timestamp - (b as { timestamp: number }).timestamp);
  const parts = spec.blocks ?? 1;
  const size = Math.ceil(events.length / parts);
  for (let i = 0; i < parts; i++) {
    const batch = [
      {
        uuid: nextUuid(),
        event: '$snapshot',
        properties: { token, distinct_id: spec.distinctId, $session_id: spec.sessionId, $window_id: `${spec.sessionId}-window`, $snapshot_data: events.slice(i * size, (i + 1) * size), $lib: 'web' },
      },
    ];
    const response = await ctx.app.inject({ method: 'POST', url: '/s/', headers: { 'content-type': 'text/plain' }, payload: gzipSync(JSON.stringify(batch)) });
    expect(response.statusCode, response.body).toBe(200);
  }
  return events;
}

/** Sends events through /e/. */
export async function capture(ctx: TestContext, token: string, events: object[]): Promise<void> {
  const response = await ctx.app.inject({ method: 'POST', url: '/e/', payload: { api_key: token, batch: events.map((e) => ({ uuid: nextUuid(), ...e })) } });
  expect(response.statusCode, response.body).toBe(200);
}
