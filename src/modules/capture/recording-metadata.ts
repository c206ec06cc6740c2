/**
 * What one block of a recording (the rrweb events of one `$snapshot` batch) adds to the recording's metadata,
 * computed as PostHog's replay ingestion computes it (session_recordings.md §13.6: snappy-session-recorder.ts,
 * segmentation.ts, session-console-log-recorder.ts).
 */

export type RrwebEvent = { type?: unknown; data?: unknown; timestamp?: unknown } & Record<string, unknown>;

export type ConsoleLevel = 'log' | 'warn' | 'error';

export interface BlockMetadata {
  /** ms since the epoch */
  firstTimestamp: number;
  lastTimestamp: number;
  /** Meta events' hrefs and custom events' payload hrefs, in order, each at most 4 KB. */
  urls: string[];
  clickCount: number;
  keypressCount: number;
  mouseActivityCount: number;
  activeMilliseconds: number;
  consoleCounts: Record<ConsoleLevel, number>;
  /** Distinct (level, message) pairs, each message at most 2999 characters. */
  consoleMessages: { level: ConsoleLevel; message: string }[];
  eventCount: number;
}

const EventType = { FullSnapshot: 2, IncrementalSnapshot: 3, Meta: 4, Custom: 5, Plugin: 6 } as const;
const Source = { MouseMove: 1, MouseInteraction: 2, Scroll: 3, ViewportResize: 4, Input: 5, TouchMove: 6, MediaInteraction: 7, Drag: 12 } as const;
const CLICK_TYPES = new Set([2 /* Click */, 4 /* DblClick */, 9 /* TouchEnd */, 3 /* ContextMenu */]);
const MOUSE_SOURCES = new Set<number>([Source.MouseMove, Source.MouseInteraction, Source.TouchMove]);
const ACTIVE_SOURCES = new Set<number>([
  Source.MouseMove,
  Source.MouseInteraction,
  Source.Scroll,
  Source.ViewportResize,
  Source.Input,
  Source.TouchMove,
  Source.MediaInteraction,
  Source.Drag,
]);
const ACTIVITY_GAP_MS = 5000;
const MAX_URL_LENGTH = 4096;
const MAX_URLS = 25;
const MAX_CONSOLE_MESSAGE = 2999;

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

function consoleLevel(level: unknown): ConsoleLevel {
  if (level === 'warn' || level === 'countReset') return 'warn';
  if (level === 'error' || level === 'assert') return 'error';
  return 'log';
}

function consoleMessage(payload: Record<string, unknown>): string {
  const parts = Array.isArray(payload.payload) ? payload.payload : [];
  return parts
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
    .join(' ')
    .slice(0, MAX_CONSOLE_MESSAGE);
}

function hrefOf(event: RrwebEvent): string | undefined {
  const data = record(event.data);
  if (event.type === EventType.Meta && typeof data?.href === 'string') return data.href;
  const payload = record(data?.payload);
  if (event.type === EventType.Custom && typeof payload?.href === 'string') return payload.href;
  return undefined;
}

/**
 * Active time: sorted by timestamp, active events are grouped into segments that break after 5 s without activity;
 * each segment counts its span, at least 1 ms.
 */
function activeMilliseconds(activeTimestamps: number[]): number {
  if (activeTimestamps.length === 0) return 0;
  const sorted = [...activeTimestamps].sort((a, b) => a - b);
  let total = 0;
  let start = sorted[0]!;
  let last = start;
  for (const ts of sorted.slice(1)) {
    if (ts - last > ACTIVITY_GAP_MS) {
      total += Math.max(1, last - start);
      start = ts;
    }
    last = ts;
  }
  return Math.floor(total + Math.max(1, last - start));
}

/** Metadata of a block; events without a usable timestamp are expected to be filtered out before. */
export function blockMetadata(events: (RrwebEvent & { timestamp: number })[]): BlockMetadata {
  const urls: string[] = [];
  const consoleCounts: Record<ConsoleLevel, number> = { log: 0, warn: 0, error: 0 };
  const messages = new Map<string, { level: ConsoleLevel; message: string }>();
  const active: number[] = [];
  let clickCount = 0;
  let keypressCount = 0;
  let mouseActivityCount = 0;
  let firstTimestamp = Infinity;
  let lastTimestamp = -Infinity;

  for (const event of events) {
    firstTimestamp = Math.min(firstTimestamp, event.timestamp);
    lastTimestamp = Math.max(lastTimestamp, event.timestamp);
    const href = hrefOf(event);
    if (href !== undefined && urls.length < MAX_URLS) urls.push(href.slice(0, MAX_URL_LENGTH));
    const data = record(event.data);
    if (event.type === EventType.IncrementalSnapshot && data) {
      const source = data.source as number;
      if (source === Source.MouseInteraction && CLICK_TYPES.has(data.type as number)) clickCount++;
      if (source === Source.Input) keypressCount++;
      if (MOUSE_SOURCES.has(source)) mouseActivityCount++;
      if (ACTIVE_SOURCES.has(source)) active.push(event.timestamp);
    }
    if (event.type === EventType.Plugin && data?.plugin === 'rrweb/console@1') {
      const payload = record(data.payload) ?? {};
      const level = consoleLevel(payload.level);
      consoleCounts[level]++;
      const message = consoleMessage(payload);
      messages.set(`${level}\u0000${message}`, { level, message });
    }
  }
  return {
    firstTimestamp,
    lastTimestamp,
    urls,
    clickCount,
    keypressCount,
    mouseActivityCount,
    activeMilliseconds: activeMilliseconds(active),
    consoleCounts,
    consoleMessages: [...messages.values()],
    eventCount: events.length,
  };
}
