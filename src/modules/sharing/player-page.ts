import { escapeHtml, scriptJson } from '../../lib/html.js';
import { type ExportedRecording, page } from './public-pages.js';

/**
 * Where the player reads the recording's snapshots and with which credentials: a share link's token in the query,
 * an unlocked password share's JWT as a Bearer header, or a signed-in user's session cookie.
 */
export interface PlayerSource {
  /** The snapshots endpoint (…/session_recordings/<id>/snapshots/), with its query when a token rides in it. */
  snapshotsUrl: string;
  authorization?: string;
  credentials: 'omit' | 'same-origin';
}

/** The player page; noHeader and whitelabel drop the header, theme picks the colours. */
export function recordingPlayerPage(data: ExportedRecording, source: PlayerSource): string {
  const header = data.noHeader || data.whitelabel ? '' : `<header>Recording ${escapeHtml(data.recording.id)}, shared from Burrow</header>`;
  const head = `<link rel="stylesheet" href="/static/rrweb-player.css">
<script type="application/json" id="share-data">${scriptJson(data)}</script>
<script type="application/json" id="player-source">${scriptJson(source)}</script>
<script src="/static/rrweb-player.js" defer></script>
<script src="/static/recording-player.js" defer></script>`;
  return page(`Recording ${data.recording.id}`, `${header}<main class="theme-${escapeHtml(String(data.theme ?? 'light'))}"><div id="player"></div><p id="message"></p></main>`, head);
}
