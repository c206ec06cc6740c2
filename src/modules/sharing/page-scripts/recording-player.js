// @ts-check
// The shared recording's player: loads the link's snapshot blocks through the API with its token, inflates the
// fields posthog-js compressed (cv "2024-10"), and plays them with rrweb-player (served by Burrow as /static/).

/** @typedef {{ type: number, timestamp: number, data: any, cv?: string }} RrwebEvent */

/** Blocks per request: PostHog lets a browser ask for up to 101 at once. */
const BLOCKS_PER_REQUEST = 100;
const MUTATION = 0;

/** @param {string} text latin-1 characters, one per byte of gzip */
async function inflate(text) {
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text());
}

/** @param {RrwebEvent} event */
async function decompressed(event) {
  if (!event.cv) return event;
  if (event.type === 2 && typeof event.data === 'string') return { ...event, data: await inflate(event.data) };
  if (event.type === 3 && event.data && event.data.source === MUTATION) {
    const data = { ...event.data };
    for (const field of ['texts', 'attributes', 'removes', 'adds']) if (typeof data[field] === 'string') data[field] = await inflate(data[field]);
    return { ...event, data };
  }
  return event;
}

/** @type {{ snapshotsUrl: string, authorization?: string, credentials: RequestCredentials }} */
const source = JSON.parse(/** @type {HTMLElement} */ (document.getElementById('player-source')).textContent || '{}');

/** @param {string} query */
async function fetchText(query) {
  const url = `${source.snapshotsUrl}${source.snapshotsUrl.includes('?') ? '&' : '?'}${query}`;
  const response = await fetch(url, { credentials: source.credentials, headers: source.authorization ? { authorization: source.authorization } : {} });
  if (!response.ok) throw new Error(`${response.status} from ${url}`);
  return response.text();
}

async function main() {
  const root = /** @type {HTMLElement} */ (document.getElementById('player'));
  const { sources } = JSON.parse(await fetchText(''));
  /** @type {RrwebEvent[]} */
  const events = [];
  for (let start = 0; start < sources.length; start += BLOCKS_PER_REQUEST) {
    const end = Math.min(sources.length, start + BLOCKS_PER_REQUEST) - 1;
    const text = await fetchText(`source=blob_v2&start_blob_key=${start}&end_blob_key=${end}`);
    for (const line of text.split('\n')) if (line) events.push(await decompressed(JSON.parse(line)[1]));
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  const Player = /** @type {any} */ (globalThis).rrwebPlayer.default ?? /** @type {any} */ (globalThis).rrwebPlayer;
  const player = new Player({
    target: root,
    props: { events, width: root.clientWidth || 1024, height: Math.max(400, window.innerHeight - 160), autoPlay: true, skipInactive: true, showController: true },
  });
  const startAt = Number(new URLSearchParams(location.search).get('t'));
  if (startAt > 0) player.goto(startAt * 1000, true);
  document.body.dataset.state = 'playing';
}

main().catch((error) => {
  document.body.dataset.state = 'failed';
  const message = document.getElementById('message');
  if (message) message.textContent = `This recording could not be played: ${error.message}`;
});
