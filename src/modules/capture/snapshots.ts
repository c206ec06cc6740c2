import { CaptureError } from './errors.js';
import { captureRequest } from './events.js';
import { storableText } from '../../lib/postgres-text.js';
import { blockMetadata, type BlockMetadata, type RrwebEvent } from './recording-metadata.js';

/**
 * The `$snapshot` events of a /s/ request, validated as PostHog's replay capture validates them (session_recordings.md
 * §13.5) and grouped by each event's own session and window, as the spec recommends (PostHog trusts the first event
 * for the whole request).
 */

/** One `$snapshot` event's rrweb events: the unit stored, listed and replayed (a blob_v2 block). */
export interface SnapshotBlock {
  /** The `$snapshot` event's uuid: a block sent again is stored once. */
  uuid: string;
  sessionId: string;
  windowId: string;
  distinctId: string;
  snapshotSource: string;
  snapshotLibrary: string;
  /** The JSONL PostHog serves for a block: one `[windowId, event]` line per rrweb event. */
  jsonl: string;
  metadata: BlockMetadata;
}

const SESSION_ID = /^[A-Za-z0-9-]{1,70}$/;

function snapshotItems(data: unknown): RrwebEvent[] {
  const items = Array.isArray(data) ? data : [data];
  return items.filter((item): item is RrwebEvent => typeof item === 'object' && item !== null && !Array.isArray(item));
}

/** The library that recorded it: `$lib`, else the user agent when it names a PostHog SDK, else "web". */
function libraryOf(lib: unknown, userAgent: string | undefined): string {
  if (typeof lib === 'string' && lib !== '') return lib;
  const agent = userAgent?.split('/')[0];
  return agent && agent.toLowerCase().includes('posthog') ? agent : 'web';
}

export function snapshotBlocks(json: unknown, options: { now: Date; sentAtFallback: unknown; userAgent: string | undefined }): { token: string; blocks: SnapshotBlock[] } {
  const { token, events } = captureRequest(json, { engage: false, now: options.now, sentAtFallback: options.sentAtFallback });
  const blocks: SnapshotBlock[] = [];
  for (const event of events) {
    if (event.event !== '$snapshot') continue;
    const { properties } = event;
    const sessionId = properties.$session_id;
    if (sessionId === undefined || sessionId === null || sessionId === '') throw new CaptureError('replay event submitted without session id');
    if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) throw new CaptureError('replay event submitted with an invalid session id');
    const windowId = typeof properties.$window_id === 'string' && properties.$window_id !== '' ? storableText(properties.$window_id).slice(0, 200) : sessionId;
    const data = properties.$snapshot_data;
    if (data === undefined || data === null || typeof data !== 'object') throw new CaptureError('replay event submitted without snapshot data');
    // Events stamped 0 (or not at all) are dropped, as PostHog's ingestion drops them.
    const items = snapshotItems(data).filter((item): item is RrwebEvent & { timestamp: number } => typeof item.timestamp === 'number' && item.timestamp > 0);
    if (items.length === 0) continue;
    const metadata = blockMetadata(items);
    blocks.push({
      uuid: event.uuid,
      sessionId,
      windowId,
      distinctId: storableText(event.distinctId),
      snapshotSource: typeof properties.$snapshot_source === 'string' && properties.$snapshot_source !== '' ? storableText(properties.$snapshot_source).slice(0, 40) : 'web',
      snapshotLibrary: storableText(libraryOf(properties.$lib, options.userAgent)).slice(0, 200),
      // The events as they came: cv-compressed fields stay binary strings, which JSON escapes.
      jsonl: items.map((item) => JSON.stringify([windowId, item])).join('\n'),
      metadata: {
        ...metadata,
        urls: metadata.urls.map(storableText),
        consoleMessages: metadata.consoleMessages.map(({ level, message }) => ({ level, message: storableText(message) })),
      },
    });
  }
  return { token, blocks };
}
