// @ts-check
// One window at a time for rrweb. A recording of several windows (tabs, pop-ups) interleaves their events, and rrweb
// replays into one document: window B's node ids applied to window A's DOM break the replay. So the player shows
// the window the user is in, and when that changes it rebuilds the new one from its latest Meta and FullSnapshot
// and the changes since, all re-timed to the moment of the switch. Loaded before recording-player.js, which calls
// oneWindowAtATime on each batch it loads; a plain function of its arguments, so a test can run it on its own.
/* exported noWindows, oneWindowAtATime */

/** @typedef {{ type: number, timestamp: number, data: any, cv?: string }} RrwebEvent */
/** @typedef {[windowId: string, event: RrwebEvent]} SnapshotLine */
/** What it takes to rebuild a window: its latest Meta and FullSnapshot, and the DOM changes since. */
/** @typedef {{ meta: RrwebEvent | null, full: RrwebEvent | null, since: RrwebEvent[] }} WindowReplay */
/** @typedef {{ active: string | null, windows: ReadonlyMap<string, Readonly<WindowReplay>> }} WindowState */

const FULL_SNAPSHOT = 2;
const INCREMENTAL_SNAPSHOT = 3;
const META = 4;
/** Incremental sources that show the user is in a window: mouse move and interaction, scroll, resize, input, touch, media, drag. */
const USER_SOURCES = new Set([1, 2, 3, 4, 5, 6, 7, 12]);
/** Incremental sources a rebuilt window can do without: the pointer, touches, drags and logs leave no trace in the DOM. */
const TRANSIENT_SOURCES = new Set([1, 2, 6, 11, 12]);

/** @returns {WindowState} */
function noWindows() {
  return { active: null, windows: new Map() };
}

/**
 * The events rrweb should play for `lines` (in time order), given what earlier batches left in `state`, and the
 * state for the next batch; `state` is not changed. Events that do not touch the DOM (console logs, custom events)
 * pass through from every window; Meta, FullSnapshot and incremental events only from the active window. Another
 * window becomes the active one with a Meta (a page load or navigation there) or with user activity once it has a
 * full snapshot to rebuild from.
 * @param {WindowState} state
 * @param {SnapshotLine[]} lines
 * @returns {{ state: WindowState, events: RrwebEvent[] }}
 */
function oneWindowAtATime(state, lines) {
  const windows = new Map(state.windows);
  /** @type {Set<string>} */
  const copied = new Set();
  let active = state.active;
  /** @type {RrwebEvent[]} */
  const events = [];
  for (const [windowId, event] of lines) {
    if (event.type !== META && event.type !== FULL_SNAPSHOT && event.type !== INCREMENTAL_SNAPSHOT) {
      events.push(event);
      continue;
    }
    let kept = windows.get(windowId);
    if (!copied.has(windowId)) {
      kept = kept ? { ...kept, since: [...kept.since] } : { meta: null, full: null, since: [] };
      windows.set(windowId, kept);
      copied.add(windowId);
    }
    const { meta, full, since } = /** @type {WindowReplay} */ (kept);
    if (windowId !== active) {
      const userIsThere = event.type === INCREMENTAL_SNAPSHOT && USER_SOURCES.has(event.data?.source) && meta !== null && full !== null;
      // Copies down to `data`: rrweb rewrites some of an event's data fields as it applies them.
      if (userIsThere) events.push(...[meta, full, ...since].map((e) => ({ ...e, timestamp: event.timestamp, data: { ...e.data } })));
      if (userIsThere || event.type === META || active === null) active = windowId;
    }
    if (event.type === META) windows.set(windowId, { meta: event, full: null, since: [] });
    else if (event.type === FULL_SNAPSHOT) windows.set(windowId, { meta, full: event, since: [] });
    else if (!TRANSIENT_SOURCES.has(event.data?.source)) since.push(event);
    if (windowId === active) events.push(event);
  }
  return { state: { active, windows }, events };
}
