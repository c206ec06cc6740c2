import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../../src/browser/chromium.js';
import { ok } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { factories, type Tenant } from '../../helpers/factories.js';
import { ROOT } from '../../helpers/process.js';
import { documentSnapshot, nextUuid } from '../recordings/fixtures.js';

/**
 * The share page's player in real Chromium, on recordings made of synthetic rrweb events sent through /s/ as
 * posthog-js sends them: two windows with the same node ids (as two real documents have), a navigation, clicks,
 * console messages, and a long recording of many blocks to watch the streaming.
 */

type Event = { type: number; timestamp: number; data: unknown };
type Line = [string, Event];

const meta = (timestamp: number, href: string): Event => ({ type: 4, timestamp, data: { href, width: 1024, height: 768 } });
/** A document whose <p id="text"> (node 7) says `text`, with a <script> that must never run. */
const fullSnapshot = (timestamp: number, text: string): Event =>
  documentSnapshot(timestamp, {
    childNodes: [
      { type: 2, id: 6, tagName: 'p', attributes: { id: 'text' }, childNodes: [{ type: 3, id: 7, textContent: text }] },
      { type: 2, id: 8, tagName: 'script', attributes: {}, childNodes: [{ type: 3, id: 9, textContent: "parent.document.body.dataset.compromised = 'yes'" }] },
    ],
  });
const setText = (timestamp: number, value: string): Event => ({ type: 3, timestamp, data: { source: 0, texts: [{ id: 7, value }], attributes: [], removes: [], adds: [] } });
const click = (timestamp: number): Event => ({ type: 3, timestamp, data: { source: 2, type: 2, id: 6, x: 10, y: 10 } });
const mouseMove = (timestamp: number): Event => ({ type: 3, timestamp, data: { source: 1, positions: [{ x: 20, y: 20, id: 6, timeOffset: 0 }] } });
const consoleLog = (timestamp: number, level: string, message: string): Event => ({
  type: 6,
  timestamp,
  data: { plugin: 'rrweb/console@1', payload: { level, payload: [JSON.stringify(message)], trace: [] } },
});
/** Mouse moves every 2 s from `from` to `to`: user activity, so that skip-inactivity does not jump over the phase. */
const moving = (from: number, to: number) => Array.from({ length: Math.floor((to - from) / 2000) + 1 }, (_, i) => mouseMove(from + i * 2000));

/** window-switch.js, run as the page runs it: a plain script whose functions become globals. */
function windowSwitch() {
  const context = vm.createContext({});
  vm.runInContext(readFileSync(path.join(ROOT, 'src/modules/sharing/page-scripts/window-switch.js'), 'utf8'), context);
  type State = { active: string | null; windows: Map<string, unknown> };
  const { noWindows, oneWindowAtATime } = context as unknown as { noWindows(): State; oneWindowAtATime(state: State, lines: Line[]): { state: State; events: Event[] } };
  // The script's objects come from the context's realm: JSON makes them plain ones of this realm.
  return { noWindows, play: (state: State, lines: Line[]) => JSON.parse(JSON.stringify(oneWindowAtATime(state, lines).events)) as Event[], oneWindowAtATime };
}

describe('one window at a time (window-switch.js)', () => {
  const { noWindows, play, oneWindowAtATime } = windowSwitch();
  const a = [meta(0, 'https://a/'), fullSnapshot(1, 'A'), setText(100, 'A2')];
  const b = [meta(200, 'https://b/'), fullSnapshot(201, 'B')];

  it('passes a single window through as it is', () => {
    const lines: Line[] = [...a, click(300), consoleLog(400, 'error', 'x')].map((e) => ['A', e]);
    expect(play(noWindows(), lines)).toEqual(lines.map(([, e]) => e));
  });

  it('switches at a Meta, hides the other window, and rebuilds a window the user comes back to, re-timed to that moment', () => {
    const lines: Line[] = [
      ...a.map((e): Line => ['A', e]),
      ...b.map((e): Line => ['B', e]),
      ['A', setText(300, 'A3')],
      ['B', consoleLog(360, 'log', 'from B')],
      ['B', setText(400, 'B2')],
      ['A', click(500)],
      ['A', mouseMove(550)],
      ['B', click(600)],
      ['A', setText(700, 'A4')],
      ['A', mouseMove(800)],
    ];
    const retimed = (timestamp: number, events: Event[]) => events.map((e) => ({ ...e, timestamp }));
    expect(play(noWindows(), lines)).toEqual([
      ...a,
      ...b,
      // A's change while B is shown is not played; B's console message is.
      consoleLog(360, 'log', 'from B'),
      setText(400, 'B2'),
      // The click in A brings A back: its Meta, snapshot and the DOM changes since, then the click.
      ...retimed(500, [...a, setText(300, 'A3')]),
      click(500),
      mouseMove(550),
      ...retimed(600, [...b, setText(400, 'B2')]),
      click(600),
      // The pointer and the click left no trace in A's DOM: they are not part of its rebuild.
      ...retimed(800, [...a, setText(300, 'A3'), setText(700, 'A4')]),
      mouseMove(800),
    ]);
  });

  it('does not switch to a window it cannot rebuild, and a navigation starts the window afresh', () => {
    const lines: Line[] = [...a.map((e): Line => ['A', e]), ['B', click(150)], ['B', setText(160, 'B?')], ['A', meta(200, 'https://a/2')], ['A', fullSnapshot(201, 'A, page 2')]];
    expect(play(noWindows(), lines)).toEqual([...a, meta(200, 'https://a/2'), fullSnapshot(201, 'A, page 2')]);
  });

  it('carries its state from batch to batch without changing the state it was given', () => {
    const lines: Line[] = [...a.map((e): Line => ['A', e]), ...b.map((e): Line => ['B', e]), ['A', setText(300, 'A3')], ['A', click(500)]];
    const whole = play(noWindows(), lines);
    const start = noWindows();
    const first = oneWindowAtATime(start, lines.slice(0, 4));
    const before = JSON.stringify([...first.state.windows]);
    const second = oneWindowAtATime(first.state, lines.slice(4));
    expect(JSON.stringify([...first.state.windows])).toBe(before);
    expect(start.windows.size).toBe(0);
    expect(JSON.parse(JSON.stringify([...first.events, ...second.events]))).toEqual(whole);
  });
});

describe('the share page’s player', () => {
  let ctx: TestContext;
  let owner: Tenant;
  let projectToken: string;
  let apiHost: string;
  let browser: Browser;
  const start = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
  const at = (seconds: number) => start + seconds * 1000;

  /** One $snapshot event, so one block. */
  async function send(sessionId: string, windowId: string, events: Event[]): Promise<void> {
    const batch = [
      {
        uuid: nextUuid(),
        event: '$snapshot',
        properties: { token: projectToken, distinct_id: 'visitor', $session_id: sessionId, $window_id: windowId, $snapshot_data: events, $lib: 'web' },
      },
    ];
    const response = await ctx.app.inject({ method: 'POST', url: '/s/', headers: { 'content-type': 'text/plain' }, payload: gzipSync(JSON.stringify(batch)) });
    expect(response.statusCode, response.body).toBe(200);
  }

  async function share(sessionId: string, settings: Record<string, unknown> = {}): Promise<string> {
    return ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/session_recordings/${sessionId}/sharing/`, { enabled: true, settings })).access_token;
  }

  async function open(token: string, query = '', prepare?: (tab: Page) => Promise<void>, colorScheme: 'light' | 'dark' = 'light') {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme });
    const tab = await context.newPage();
    await prepare?.(tab);
    await tab.goto(`${apiHost}/shared/${token}${query}`);
    return { tab, context, text: tab.frameLocator('.replayer-wrapper iframe').locator('#text') };
  }
  const playing = (tab: Page) => tab.waitForSelector('body[data-state="playing"]', { timeout: 20_000 });
  const allLoaded = async (tab: Page) => {
    const total = await (await tab.waitForSelector('body[data-total-blocks]')).getAttribute('data-total-blocks');
    await tab.waitForSelector(`body[data-loaded-blocks="${total}"]`);
  };
  const attributes = async (locator: Locator, name: string) => Promise.all((await locator.all()).map((one) => one.getAttribute(name)));

  /**
   * Window A: Alpha, a click at 1 s, a log at 2 s, a change at 3 s, an error at 4 s. Window B opens at 8 s (Beta,
   * a click at 9 s, a change at 12 s, and at 20 s one while A is shown again). The user is back in A at 16 s and
   * navigates there at 24 s (Gamma). Three blocks: A until 7 s, B, A from 16 s.
   */
  const TOUR = 'tour-1';
  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await factories(ctx).tenant();
    projectToken = await factories(ctx).projectToken(owner);
    apiHost = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const location = findChromium();
    if (!location.found) throw new Error(location.problem);
    browser = await chromium.launch({ executablePath: location.path, headless: true, args: ['--no-sandbox', '--disable-gpu'] });

    const byTime = (events: Event[]) => events.sort((x, y) => x.timestamp - y.timestamp);
    await send(TOUR, 'window-a', byTime([meta(at(0), 'https://shop.example.com/a'), fullSnapshot(at(0) + 10, 'Alpha page'), ...moving(at(0.5), at(7)), click(at(1)),
      consoleLog(at(2), 'log', 'hello from the page'), setText(at(3), 'Alpha step 2'), consoleLog(at(4), 'error', 'Boom')]));
    await send(TOUR, 'window-b', byTime([meta(at(8), 'https://shop.example.com/b'), fullSnapshot(at(8) + 10, 'Beta page'), ...moving(at(8.5), at(15)), click(at(9)),
      setText(at(12), 'Beta step 2'), setText(at(20), 'Beta, hidden')]));
    await send(TOUR, 'window-a', byTime([...moving(at(16), at(30)), meta(at(24), 'https://shop.example.com/a2'), fullSnapshot(at(24) + 10, 'Gamma page')]));
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('plays the recorded page (its scripts never run) with a timeline mark for each click and console error; a mark seeks', async () => {
    const { tab, context, text } = await open(await share(TOUR));
    await playing(tab);
    await expect.poll(() => text.textContent()).toMatch(/^Alpha/);
    await allLoaded(tab);
    expect(await attributes(tab.locator('#timeline [data-mark="click"]'), 'data-time')).toEqual(['1000', '9000']);
    expect(await attributes(tab.locator('#timeline [data-mark="error"]'), 'data-time')).toEqual(['4000']);
    expect(await tab.locator('#inspector').count()).toBe(0);
    expect(await tab.locator('.rr-controller').count()).toBe(1);

    // The click in window B: B is rebuilt and shown, A's text is gone.
    await tab.locator('#timeline [data-mark="click"][data-time="9000"]').click();
    await expect.poll(() => text.textContent()).toMatch(/^Beta/);
    expect(await tab.locator('body').getAttribute('data-compromised')).toBeNull();
    await context.close();
  });

  it('unlocks a password-protected link from its form, then plays with the unlock’s JWT', async () => {
    const token = await share(TOUR);
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/session_recordings/${TOUR}/sharing/`, { password_required: true }));
    ok(await owner.call('POST', `/api/projects/${owner.teamId}/session_recordings/${TOUR}/sharing/passwords/`, { raw_password: 'let me watch' }), 201);
    const { tab, context, text } = await open(token);
    await tab.fill('input[name="password"]', 'not it');
    await tab.click('button[type="submit"]');
    await tab.waitForSelector('text=Incorrect password');
    await tab.fill('input[name="password"]', 'let me watch');
    await tab.click('button[type="submit"]');
    await playing(tab);
    await expect.poll(() => text.textContent()).toMatch(/^Alpha/);
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name === 'posthog_sharing_token')).toMatchObject({ httpOnly: true, path: `/shared/${token}` });
    await context.close();
    ok(await owner.call('PATCH', `/api/projects/${owner.teamId}/session_recordings/${TOUR}/sharing/`, { password_required: false }));
  });

  it('plays for a signed-in user at the recording’s player_url, reading the snapshots with the session', async () => {
    const session = await ctx.login(owner.user.email);
    const playerUrl = new URL(ok(await owner.call('GET', `/api/projects/${owner.teamId}/session_recordings/${TOUR}/`)).player_url as string);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const [name, value] = session.cookie.split(';')[0]!.split('=') as [string, string];
    await context.addCookies([{ name, value, url: apiHost }]);
    const tab = await context.newPage();
    await tab.goto(`${apiHost}${playerUrl.pathname}`);
    await playing(tab);
    await expect.poll(() => tab.frameLocator('.replayer-wrapper iframe').locator('#text').textContent()).toMatch(/^Alpha/);
    await context.close();
  });

  it('starts at ?t=: back in window A with its change made before B opened, not B’s change made meanwhile; after the navigation, the new page', async () => {
    for (const [seconds, expected] of [
      [10, /^Beta/],
      [17, /^Alpha step 2$/],
      [22, /^Alpha step 2$/],
      [26, /^Gamma page$/],
    ] as const) {
      const { tab, context, text } = await open(await share(TOUR), `?t=${seconds}`);
      await playing(tab);
      expect(await text.textContent(), `at ${seconds} s`).toMatch(expected);
      const [minutes, secondsShown] = (await tab.locator('.rr-timeline__time').first().textContent())!.split(':').map(Number);
      expect(minutes! * 60 + secondsShown! - seconds).toBeGreaterThanOrEqual(0);
      expect(minutes! * 60 + secondsShown! - seconds).toBeLessThan(3);
      await context.close();
    }
  });

  it('lists the console’s messages with showInspector (level, text, time); a message seeks', async () => {
    const { tab, context, text } = await open(await share(TOUR, { showInspector: true }), '?t=26');
    await playing(tab);
    await allLoaded(tab);
    expect(await attributes(tab.locator('#console-logs li'), 'data-level')).toEqual(['log', 'error']);
    expect(await tab.locator('#console-logs li').allTextContents()).toEqual(['00:02loghello from the page', '00:04errorBoom']);
    expect(await text.textContent()).toBe('Gamma page');
    await tab.screenshot({ path: path.join(ROOT, 'test-results', 'shared-recording-inspector.png') });
    await tab.locator('#console-logs li[data-level="error"] button').click();
    await expect.poll(() => text.textContent()).toMatch(/^Alpha step 2$/);
    await context.close();
  });

  it('applies noHeader, whitelabel and the theme (system follows the browser)', async () => {
    const background = (tab: Page) => tab.evaluate('getComputedStyle(document.body).backgroundColor');
    const cases: [Record<string, unknown>, 'light' | 'dark', boolean, string][] = [
      [{}, 'dark', true, 'rgb(250, 250, 250)'],
      [{ noHeader: true, theme: 'dark' }, 'light', false, 'rgb(21, 22, 27)'],
      [{ whitelabel: true, theme: 'system' }, 'dark', false, 'rgb(21, 22, 27)'],
      [{ theme: 'system' }, 'light', true, 'rgb(250, 250, 250)'],
    ];
    for (const [settings, scheme, header, colour] of cases) {
      const { tab, context } = await open(await share(TOUR, settings), '', undefined, scheme);
      await playing(tab);
      expect(await tab.locator('header').count(), JSON.stringify(settings)).toBe(header ? 1 : 0);
      expect(await background(tab), `${JSON.stringify(settings)} in a ${scheme} browser`).toBe(colour);
      await context.close();
    }
  });

  describe('a long recording', () => {
    const LONG = 'long-1';
    const BLOCKS = 30;
    beforeAll(async () => {
      for (let i = 0; i < BLOCKS; i++) {
        const from = at(i * 2);
        const first = i === 0 ? [meta(from, 'https://shop.example.com/long'), fullSnapshot(from + 10, 'Early step')] : [];
        const late = i === BLOCKS - 3 ? [setText(from + 500, 'Late step')] : [];
        await send(LONG, 'window-long', [...first, ...moving(from + 100, from + 1900), ...late].sort((x, y) => x.timestamp - y.timestamp));
      }
    });

    /** Holds every block request after the first until `release` is called; counts the snapshot requests. */
    async function holdingBlocks(tab: Page) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const requests: string[] = [];
      await tab.route(/\/snapshots\//, async (route) => {
        const url = new URL(route.request().url());
        requests.push(url.search);
        if (Number(url.searchParams.get('start_blob_key') ?? 0) > 0) await released;
        await route.continue();
      });
      return { release, requests };
    }

    it('plays as soon as the first block is in, then streams the rest into the playing replay in bounded batches', async () => {
      let held: Awaited<ReturnType<typeof holdingBlocks>> | undefined;
      const { tab, context, text } = await open(await share(LONG), '', async (page) => void (held = await holdingBlocks(page)));
      await playing(tab);
      expect(await tab.evaluate('({ ...document.body.dataset })')).toMatchObject({ state: 'playing', loadedBlocks: '1', totalBlocks: String(BLOCKS) });
      expect(await text.textContent()).toBe('Early step');
      // The timeline already spans the whole recording (about a minute), not the first block's two seconds.
      expect(await tab.locator('.rr-timeline__time').nth(1).textContent()).toMatch(/^00:5\d$/);
      held!.release();
      await allLoaded(tab);
      // The listing and the first block together, then blocks 1-20 and 21-29.
      const firstKeys = held!.requests.map((search) => new URLSearchParams(search).get('start_blob_key'));
      expect(new Set(firstKeys.slice(0, 2))).toEqual(new Set([null, '0']));
      expect(firstKeys.slice(2)).toEqual(['1', '21']);
      expect(await tab.locator('body').getAttribute('data-state')).toBe('playing');
      await context.close();
    });

    it('waits for the blocks a seek beyond what is loaded needs, then plays from there', async () => {
      let held: Awaited<ReturnType<typeof holdingBlocks>> | undefined;
      const { tab, context, text } = await open(await share(LONG), '', async (page) => void (held = await holdingBlocks(page)));
      await playing(tab);
      const bar = (await tab.locator('.rr-progress').boundingBox())!;
      await tab.mouse.click(bar.x + bar.width * 0.97, bar.y + bar.height / 2);
      await tab.waitForSelector('body[data-buffering="true"]');
      expect(await tab.locator('body').getAttribute('data-loaded-blocks')).toBe('1');
      held!.release();
      await tab.waitForSelector('body:not([data-buffering])');
      await expect.poll(() => text.textContent()).toBe('Late step');
      await context.close();
    });

    it('starts at a ?t= beyond the first block once its blocks are in', async () => {
      const { tab, context, text } = await open(await share(LONG), '?t=56');
      await playing(tab);
      expect(Number(await tab.locator('body').getAttribute('data-loaded-blocks'))).toBeGreaterThanOrEqual(BLOCKS - 2);
      expect(await text.textContent()).toBe('Late step');
      await context.close();
    });
  });
});
