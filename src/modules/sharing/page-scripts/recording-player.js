// @ts-check
// The shared recording's player. It reads the recording's snapshot blocks in order, one block first and then
// batches, and starts playing as soon as what it has holds a full snapshot; the rest streams into the playing
// replayer (rrweb's addEvent). Fields posthog-js compressed (cv "2024-10") are inflated, windows are played one at a
// time (window-switch.js), clicks and console errors become marks on a timeline and console logs the inspector's
// list. Tests and benchmarks read body[data-state] (loading, playing, failed), data-loaded-blocks and
// data-total-blocks, and data-buffering while a seek waits for blocks.
//
// In export mode (main[data-mode="export"], for recording exports) there is no controller or timeline: the replay
// fills the viewport, waits paused at ?t= (data-state "ready"), and window.burrowExport plays it at a speed, skipping
// inactive periods outright as PostHog's exporter does, with data-ended once it has played to the end. With
// show_metadata_footer a black bar under the replay shows the page's URL, the recording's second and [IDLE] or
// [RECORDING ENDED], as PostHog's PlayerFrameMetaOverlay.

/** Blocks per request after the first one; the API allows up to 101 at once. */
const BATCH = 20;
const LOAD = 1;
const PLUGIN = 6;
const MUTATION = 0;
const MOUSE_INTERACTION = 2;
const CLICK = 2;
const CONSOLE_PLUGIN = 'rrweb/console@1';
/** rrweb-player's colour for inactive periods on its progress bar. */
const INACTIVE_COLOUR = '#D4D4D4';
/** PostHog's segmenter: the incremental sources that are user activity, and the longest pause an active period spans. */
const ACTIVE_SOURCES = [1, 2, 3, 4, 5, 6, 7, 12];
const ACTIVITY_THRESHOLD_MS = 5000;

/**
 * Active and inactive periods of a recording lasting `duration` ms, from the offsets of its user activity in order
 * (PostHog's createSegments): activity less than the threshold apart is one active period, anything else inactive. A
 * recording without any activity is one active period (there is nothing to skip to).
 * @typedef {{ from: number, to: number, active: boolean, reached?: number }} Period `reached`: the export's second it began at
 * @param {number[]} activity
 * @param {number} duration
 * @returns {Period[]}
 */
function activityPeriods(activity, duration) {
  if (activity.length === 0) return [{ from: 0, to: duration, active: true }];
  /** @type {Period[]} */
  const periods = [];
  let start = /** @type {number} */ (activity[0]);
  let last = start;
  if (start > 0) periods.push({ from: 0, to: start, active: false });
  for (const offset of activity.slice(1)) {
    if (offset - last <= ACTIVITY_THRESHOLD_MS) {
      last = offset;
      continue;
    }
    periods.push({ from: start, to: last, active: true }, { from: last, to: offset, active: false });
    start = last = offset;
  }
  periods.push({ from: start, to: last, active: true });
  if (last < duration) periods.push({ from: last, to: duration, active: false });
  return periods;
}

/** @param {string} text latin-1 characters, one per byte of gzip */
async function inflate(text) {
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text());
}

/** @param {RrwebEvent} event */
async function decompressed(event) {
  if (!event.cv) return event;
  if (event.type === FULL_SNAPSHOT && typeof event.data === 'string') return { ...event, data: await inflate(event.data) };
  if (event.type === INCREMENTAL_SNAPSHOT && event.data && event.data.source === MUTATION) {
    const data = { ...event.data };
    for (const field of ['texts', 'attributes', 'removes', 'adds']) if (typeof data[field] === 'string') data[field] = await inflate(data[field]);
    return { ...event, data };
  }
  return event;
}

/** @param {string} id */
const element = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {{ recording: { start_time: string | null, end_time: string | null } }} */
const share = JSON.parse(element('share-data').textContent || '{}');
/** @type {{ snapshotsUrl: string, authorization?: string, credentials: RequestCredentials }} */
const source = JSON.parse(element('player-source').textContent || '{}');
const exportMode = document.querySelector('main')?.dataset.mode === 'export';

/** @param {string} query */
async function fetchText(query) {
  const url = `${source.snapshotsUrl}${source.snapshotsUrl.includes('?') ? '&' : '?'}${query}`;
  const response = await fetch(url, { credentials: source.credentials, headers: source.authorization ? { authorization: source.authorization } : {} });
  if (!response.ok) throw new Error(`${response.status} from ${url}`);
  return response.text();
}

/** @param {number} ms */
function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/** A console call's text: rrweb's console plugin records each argument as JSON text. */
function consoleText(/** @type {unknown} */ args) {
  return (Array.isArray(args) ? args : [args])
    .map((arg) => {
      if (typeof arg !== 'string') return String(arg);
      try {
        const value = JSON.parse(arg);
        return typeof value === 'string' ? value : arg;
      } catch {
        return arg;
      }
    })
    .join(' ');
}

/** Milliseconds since the epoch of an ISO time; -Infinity for none. */
const time = (/** @type {string | null | undefined} */ value) => {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : -Infinity;
};

async function main() {
  document.body.dataset.state = 'loading';
  const fetchRange = (/** @type {[number, number]} */ [from, to]) => fetchText(`source=blob_v2&start_blob_key=${from}&end_blob_key=${to}`);
  // The first block is asked for together with the list of blocks, not after it: one round trip less before the
  // first frame. A recording without blocks fails on the list.
  let next = fetchRange([0, 0]);
  next.catch(() => {});
  /** @type {{ sources: { start_timestamp: string, end_timestamp: string }[] }} */
  const { sources } = JSON.parse(await fetchText(''));
  const total = sources.length;
  if (total === 0) throw new Error('it has no snapshots');
  document.body.dataset.totalBlocks = String(total);
  document.body.dataset.loadedBlocks = '0';
  // Offsets count from the first block's start; the timeline spans to the recording's end, known before any block.
  const origin = time(sources[0]?.start_timestamp);
  if (!Number.isFinite(origin)) throw new Error('its first block has no start time');
  const end = Math.max(time(share.recording.end_time), ...sources.map((s) => time(s.end_timestamp)));
  const duration = Math.max(1, end - origin);

  const timeline = document.getElementById('timeline');
  const loadedBar = timeline?.querySelector('.loaded');
  const cursor = /** @type {HTMLElement | null | undefined} */ (timeline?.querySelector('.cursor'));
  const logs = document.getElementById('console-logs');
  const at = (/** @type {number} */ offset) => `${((100 * Math.min(duration, Math.max(0, offset))) / duration).toFixed(3)}%`;

  /** @type {any} */
  let player = null;
  let windows = noWindows();
  /** @type {SnapshotLine[]} loaded lines not played yet: a block not loaded yet may hold earlier events of another window */
  let held = [];
  /** @type {RrwebEvent[]} */
  let first = [];
  let loadedUntil = -Infinity;
  let complete = false;
  /** @type {{ offset: number, play: boolean } | null} */
  let waiting = null;
  let started = false;
  let rebuilt = false;
  /** Offsets of user activity (export mode's inactive periods), in order. */
  /** @type {number[]} */
  const activity = [];
  /** The recording's pages ([offset, href] of its Meta events, in order), for the metadata footer. */
  /** @type {[number, string][]} */
  const hrefs = [];
  const footer = document.getElementById('metadata-footer');

  /** The metadata footer at `offset` ms: the URL shown then, the recording's second, and its state. */
  const describe = (/** @type {number} */ offset) => {
    if (!footer) return;
    let href = '';
    for (const [from, url] of hrefs) {
      if (from > offset) break;
      href = url;
    }
    const period = (exporting?.periods ?? []).find((p) => offset >= p.from && offset < p.to);
    const state = exporting?.ended !== undefined ? '[RECORDING ENDED]' : period && !period.active ? '[IDLE]' : '';
    /** @type {[string, string][]} */
    const fields = [['url', href], ['time', String(Math.floor(Math.max(0, offset) / 1000))], ['state', state]];
    for (const [name, text] of fields) {
      const field = footer.querySelector(`[data-field="${name}"]`);
      if (field && field.textContent !== text) field.textContent = text;
    }
    footer.dataset.ended = String(exporting?.ended !== undefined);
  };

  /** @type {() => void} */
  let shown = () => {};
  const firstFrame = new Promise((resolve) => (shown = () => resolve(undefined)));
  const showPlaying = () => {
    if (!started || !rebuilt || document.body.dataset.state !== 'loading') return;
    if (player) describe(player.getReplayer().getCurrentTime());
    document.body.dataset.state = exportMode ? 'ready' : 'playing';
    shown();
  };

  /** Plays from `offset`, or pauses until the blocks up to it are loaded. */
  const seek = (/** @type {number} */ offset, /** @type {boolean} */ play) => {
    if (complete || offset <= loadedUntil) {
      waiting = null;
      delete document.body.dataset.buffering;
      started = true;
      player.goto(offset, play);
      showPlaying();
    } else {
      waiting = { offset, play };
      document.body.dataset.buffering = 'true';
      player.getReplayer().pause();
    }
  };
  const seekFromPage = (/** @type {number} */ offset) => player && seek(offset, true);

  const mark = (/** @type {string} */ kind, /** @type {number} */ offset, /** @type {string} */ label) => {
    if (!timeline) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'mark';
    button.dataset.mark = kind;
    button.dataset.time = String(Math.round(offset));
    button.title = `${label} at ${clock(offset)}`;
    button.style.left = at(offset);
    button.addEventListener('click', () => seekFromPage(offset));
    timeline.append(button);
  };

  const log = (/** @type {string} */ level, /** @type {string} */ text, /** @type {number} */ offset) => {
    if (!logs) return;
    const item = document.createElement('li');
    item.dataset.level = level;
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.time = String(Math.round(offset));
    for (const [name, content] of [['time', clock(offset)], ['level', level], ['text', text]]) {
      const span = document.createElement('span');
      span.className = String(name);
      span.textContent = String(content);
      button.append(span);
    }
    button.addEventListener('click', () => seekFromPage(offset));
    item.append(button);
    logs.append(item);
  };

  const note = (/** @type {SnapshotLine[]} */ lines) => {
    for (const [, event] of lines) {
      const offset = event.timestamp - origin;
      if (event.type === META && typeof event.data?.href === 'string') hrefs.push([offset, event.data.href]);
      if (event.type === INCREMENTAL_SNAPSHOT && ACTIVE_SOURCES.includes(event.data?.source)) activity.push(offset);
      if (event.type === INCREMENTAL_SNAPSHOT && event.data?.source === MOUSE_INTERACTION && event.data.type === CLICK) mark('click', offset, 'Click');
      if (event.type !== PLUGIN || event.data?.plugin !== CONSOLE_PLUGIN) continue;
      const level = String(event.data.payload?.level ?? 'log');
      const text = consoleText(event.data.payload?.payload);
      if (level === 'error') mark('error', offset, `Console error: ${text.slice(0, 200)}`);
      log(level, text, offset);
    }
  };

  const start = () => {
    const root = element('player');
    const Player = /** @type {any} */ (globalThis).rrwebPlayer.default ?? /** @type {any} */ (globalThis).rrwebPlayer;
    // Blank markers at the first block's start and the recording's end: rrweb measures the timeline from its first
    // event to its last, and plays nothing for a Load event. The inactive periods rrweb-player draws are computed
    // once, from the events it starts with, so they are drawn (by a change of colour) when every block is in.
    const events = [{ type: LOAD, timestamp: origin, data: {} }, ...first, { type: LOAD, timestamp: end, data: {} }];
    first = [];
    player = new Player({
      target: root,
      props: {
        events,
        width: exportMode ? window.innerWidth : root.clientWidth || 1024,
        height: exportMode ? window.innerHeight - (footer?.offsetHeight ?? 0) : Math.max(300, window.innerHeight - 220),
        autoPlay: false,
        // An export skips inactive periods itself, outright (rrweb's skip would show them fast-forwarded).
        skipInactive: !exportMode,
        showController: !exportMode,
        inactiveColor: 'transparent',
      },
    });
    player.addEventListener('fullsnapshot-rebuilded', () => {
      rebuilt = true;
      showPlaying();
    });
    player.addEventListener('ui-update-current-time', (/** @type {{ payload: number }} */ { payload }) => {
      if (cursor) cursor.style.left = at(payload);
      describe(payload);
      if (!complete && !waiting && payload > loadedUntil) seek(payload, player.getReplayer().service.state.matches('playing'));
      else if (exporting) exporting.at(payload);
    });
    player.addEventListener('finish', () => {
      if (!exporting) return;
      exporting.ended = Date.now();
      describe(duration);
      document.body.dataset.ended = 'true';
    });
    seek(Math.max(0, Number(new URLSearchParams(location.search).get('t')) || 0) * 1000, !exportMode);
  };

  /**
   * Export mode's playback: the periods (once every block is in) and, while playing, the second of the export at
   * which each period the playback reached began; an inactive period is jumped over the moment it is reached.
   * @type {{ periods: Period[], started: number, ended?: number, at: (offset: number) => void } | null}
   */
  let exporting = null;
  if (exportMode) {
    /** @type {{ periods: () => unknown[], play: (speed: number) => number, ended: () => number | undefined }} */
    const api = {
      /** PostHog's inactivity_periods: seconds from the recording's start, and recording_ts_from_s where reached. */
      periods: () =>
        (exporting?.periods ?? activityPeriods(activity, duration))
          .map((p) => ({ ts_from_s: Math.floor(p.from / 1000), ts_to_s: Math.floor(p.to / 1000), active: p.active, ...(p.reached !== undefined && { recording_ts_from_s: p.reached }) }))
          .filter((p) => p.ts_to_s > p.ts_from_s),
      /** Plays from where the page is paused at `speed`; answers the time (Date.now()) playing began. */
      play: (speed) => {
        if (!player || !complete) throw new Error('the recording is not loaded yet');
        const replayer = player.getReplayer();
        const run = {
          periods: activityPeriods(activity, duration),
          started: Date.now(),
          /** @type {number | undefined} */
          ended: undefined,
          at: (/** @type {number} */ offset) => {
            const period = run.periods.find((p) => offset >= p.from && offset < p.to);
            if (!period) return;
            period.reached ??= Math.floor((Date.now() - run.started) / 1000);
            if (!period.active) player.goto(Math.min(period.to, duration), true);
          },
        };
        exporting = run;
        player.setSpeed(Math.max(1, speed));
        const offset = replayer.getCurrentTime();
        run.started = Date.now();
        run.at(offset);
        if (!replayer.service.state.matches('playing')) player.goto(offset, true);
        return run.started;
      },
      ended: () => exporting?.ended,
    };
    /** @type {any} */ (globalThis).burrowExport = api;
  }

  /** Takes in the lines of the blocks before `loaded`, and plays those no later block can precede. */
  const read = async (/** @type {string} */ text, /** @type {number} */ loaded) => {
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [windowId, event] = JSON.parse(line);
      held.push([windowId, await decompressed(event)]);
    }
    const watermark = loaded < total ? time(sources[loaded]?.start_timestamp) : Infinity;
    held.sort((a, b) => a[1].timestamp - b[1].timestamp);
    const cut = held.findIndex(([, event]) => event.timestamp >= watermark);
    const ready = cut === -1 ? held : held.slice(0, cut);
    held = cut === -1 ? [] : held.slice(cut);
    note(ready);
    const result = oneWindowAtATime(windows, ready);
    windows = result.state;
    loadedUntil = watermark - origin;
    complete = loaded === total;
    document.body.dataset.loadedBlocks = String(loaded);
    if (loadedBar instanceof HTMLElement) loadedBar.style.width = at(loadedUntil);
    if (player) {
      const replayer = player.getReplayer();
      for (const event of result.events) replayer.addEvent(event);
      if (complete) player.$set({ inactiveColor: INACTIVE_COLOUR });
      // rrweb takes each event in on a microtask of its own: a seek must wait until they are all in.
      await Promise.resolve();
    } else {
      first.push(...result.events);
      if (first.some((event) => event.type === FULL_SNAPSHOT)) start();
      else if (complete) throw new Error('it has no full snapshot to start from');
    }
    if (waiting && (complete || waiting.offset <= loadedUntil)) seek(waiting.offset, waiting.play);
  };

  /** @type {[number, number][]} */
  const ranges = [[0, 0]];
  for (let from = 1; from < total; from += BATCH) ranges.push([from, Math.min(total, from + BATCH) - 1]);
  // One request ahead of the batch being read.
  for (let i = 0; i < ranges.length; i++) {
    const text = await next;
    const following = ranges[i + 1];
    if (following) next = fetchRange(following);
    await read(text, (ranges[i]?.[1] ?? 0) + 1);
    // Once playing has begun, the first frame is drawn before more blocks are taken in.
    if (started) await firstFrame;
  }
}

main().catch((error) => {
  document.body.dataset.state = 'failed';
  const message = document.getElementById('message');
  if (message) message.textContent = `This recording could not be played: ${error.message}`;
});
