import { gzipSync } from 'node:zlib';
import { mulberry32 } from '../lib/random.js';

/**
 * A posthog-js-like stream, generated rather than recorded: what a browser sends during a visit, as the wire notes in
 * the spec describe it. Body `i` is the same in every run but for its times (its random numbers are seeded by `i`) and
 * has its own event uuids, so nothing is deduplicated. Bodies are made as they are sent, so a run never runs out of
 * fresh ones.
 *
 * Ids are UUIDv7, as posthog-js makes them (time-ordered: each index gets its entries at its end).
 *
 * - `/e/`: `{api_key, sent_at, batch}` of 10 events (a `$pageview`, six `$autocapture`s, a `$$heatmap` with 12
 *   points, a `$pageleave`, a custom event) with posthog-js's usual properties, gzip; each body is a new anonymous
 *   visitor, whose events posthog-js marks `$process_person_profile: false` (its default `person_profiles:
 *   'identified_only'`), so no person is made for them;
 * - `/s/`: an array with one `$snapshot` of 40 rrweb events (a Meta, a FullSnapshot of about 6 kB in one of four
 *   bodies, mouse moves, clicks, inputs, scrolls and a console log), gzip.
 */

export interface StreamBody {
  path: '/e/' | '/s/';
  body: Buffer;
  events: number;
}

export const EVENTS_PER_BATCH = 10;

const START = Date.now();

export function streamBody(token: string, i: number): StreamBody {
  const random = mulberry32(i + 1);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const at = START + i * 50;
  // UUIDv7, as posthog-js makes its event uuids, session, window and anonymous ids: the time in milliseconds first.
  // The body's index in the last group keeps bodies apart whatever the generator does.
  const uuid = (ms = at) => {
    const time = ms.toString(16).padStart(12, '0');
    return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(3)}-8${hex(3)}-${(i * 1000 + Math.floor(random() * 1000)).toString(16).padStart(12, '0')}`;
  };
  {
    const session = uuid();
    const distinctId = uuid();
    const url = `https://shop.example.com/products/${i % 97}?utm_source=news`;
    const common = { token, distinct_id: distinctId, $session_id: session, $window_id: session, $current_url: url, $lib: 'web', $lib_version: '1.449.2', $viewport_width: 1280, $viewport_height: 720, $browser: 'Chrome', $os: 'Linux', $referring_domain: 'mail.example.org', $process_person_profile: false };
    if (i % 4 !== 3) {
      const names = ['$pageview', ...Array(6).fill('$autocapture'), '$$heatmap', '$pageleave', 'added_to_cart'];
      const batch = names.map((event, n) => ({
        uuid: uuid(at + n * 100),
        event,
        timestamp: new Date(at + n * 100).toISOString(),
        properties: {
          ...common,
          ...(event === '$autocapture' && { $event_type: 'click', $elements_chain: `button.buy:nth-child=${n};text="Buy"` }),
          ...(event === '$$heatmap' && {
            $heatmap_data: { [url]: Array.from({ length: 12 }, () => ({ x: Math.floor(random() * 1280), y: Math.floor(random() * 3000), target_fixed: false, type: random() < 0.5 ? 'click' : 'mousemove' })) },
          }),
        },
      }));
      return { path: '/e/', body: gzipSync(JSON.stringify({ api_key: token, sent_at: new Date(at + 1000).toISOString(), batch })), events: batch.length };
    } else {
      const rrweb: object[] = [{ type: 4, timestamp: at, data: { href: url, width: 1280, height: 720 } }];
      if (i % 16 === 3) rrweb.push({ type: 2, timestamp: at + 1, data: { node: { type: 0, childNodes: [{ type: 2, tagName: 'html', attributes: {}, childNodes: [{ type: 3, textContent: 'x'.repeat(6000) }] }] }, initialOffset: { top: 0, left: 0 } } });
      while (rrweb.length < 40) {
        const ts = at + rrweb.length * 40;
        const kind = Math.floor(random() * 5);
        rrweb.push(
          kind === 0
            ? { type: 3, timestamp: ts, data: { source: 2, type: 2, id: 12, x: 100, y: 200 } }
            : kind === 1
              ? { type: 3, timestamp: ts, data: { source: 5, text: 'hello', isChecked: false, id: 14 } }
              : kind === 2
                ? { type: 3, timestamp: ts, data: { source: 3, id: 1, x: 0, y: Math.floor(random() * 3000) } }
                : kind === 3
                  ? { type: 6, timestamp: ts, data: { plugin: 'rrweb/console@1', payload: { level: 'log', payload: ['"clicked"'], trace: [] } } }
                  : { type: 3, timestamp: ts, data: { source: 1, positions: [{ x: 10, y: 20, id: 12, timeOffset: -10 }] } },
        );
      }
      const snapshot = { uuid: uuid(), event: '$snapshot', properties: { ...common, $snapshot_data: rrweb, $snapshot_bytes: JSON.stringify(rrweb).length } };
      return { path: '/s/', body: gzipSync(JSON.stringify([snapshot])), events: rrweb.length };
    }
  }
}
