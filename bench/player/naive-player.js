// @ts-check
// The baseline of bench:player, served in place of /static/recording-player.js: the share page's player as it was
// before streaming (and as a naive player is), which fetches every block (100 a request, one after another), then
// parses them and only then starts rrweb-player. It sets body[data-state] as the real player does.

async function naivePlayer() {
  /** @type {{ snapshotsUrl: string, credentials: RequestCredentials }} */
  const source = JSON.parse(document.getElementById('player-source')?.textContent || '{}');
  const get = async (/** @type {string} */ query) => {
    const response = await fetch(`${source.snapshotsUrl}&${query}`, { credentials: source.credentials });
    if (!response.ok) throw new Error(`${response.status}`);
    return response.text();
  };
  document.body.dataset.state = 'loading';
  const { sources } = JSON.parse(await get(''));
  /** @type {{ timestamp: number }[]} */
  const events = [];
  for (let start = 0; start < sources.length; start += 100) {
    const text = await get(`source=blob_v2&start_blob_key=${start}&end_blob_key=${Math.min(sources.length, start + 100) - 1}`);
    for (const line of text.split('\n')) if (line) events.push(JSON.parse(line)[1]);
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  const root = /** @type {HTMLElement} */ (document.getElementById('player'));
  const Player = /** @type {any} */ (globalThis).rrwebPlayer.default ?? /** @type {any} */ (globalThis).rrwebPlayer;
  const player = new Player({ target: root, props: { events, width: root.clientWidth || 1024, height: 600, autoPlay: false, skipInactive: true } });
  player.addEventListener('fullsnapshot-rebuilded', () => (document.body.dataset.state = 'playing'));
  player.goto(0, true);
}

naivePlayer().catch((error) => {
  document.body.dataset.state = 'failed';
  document.body.dataset.error = String(error);
});
