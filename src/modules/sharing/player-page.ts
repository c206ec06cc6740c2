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

const THEMES = new Set(['light', 'dark', 'system']);

/**
 * The player page: the replay, a timeline of its clicks and console errors under it and, with showInspector, the
 * console's messages beside it. noHeader and whitelabel drop the header; theme picks the colours (system follows the
 * browser's prefers-color-scheme).
 *
 * In 'export' mode (recording exports render it in Chromium) the page is the replay alone, sized to the viewport: no
 * header, timeline, inspector or controller. It starts paused at ?t= and the export drives it through
 * window.burrowExport (recording-player.js). data.showMetadataFooter adds PostHog's metadata footer under the
 * replay: the page's URL, the recording's second, and [IDLE] or [RECORDING ENDED].
 */
export function recordingPlayerPage(data: ExportedRecording, source: PlayerSource, mode: 'viewer' | 'export' = 'viewer'): string {
  const exporting = mode === 'export';
  const header = exporting || data.noHeader || data.whitelabel ? '' : `<header>Recording ${escapeHtml(data.recording.id)}, shared from Burrow</header>`;
  const theme = THEMES.has(String(data.theme)) ? String(data.theme) : 'light';
  const inspector = data.showInspector && !exporting ? '<aside id="inspector"><h2>Console</h2><ol id="console-logs"></ol></aside>' : '';
  const head = `<link rel="stylesheet" href="/static/rrweb-player.css">
<link rel="stylesheet" href="/static/recording-player.css">
<script type="application/json" id="share-data">${scriptJson(data)}</script>
<script type="application/json" id="player-source">${scriptJson(source)}</script>
<script src="/static/rrweb-player.js" defer></script>
<script src="/static/window-switch.js" defer></script>
<script src="/static/recording-player.js" defer></script>`;
  const timeline = exporting ? '' : '<div id="timeline" role="group" aria-label="Clicks and console errors"><div class="loaded"></div><div class="cursor"></div></div>';
  const footer =
    exporting && data.showMetadataFooter === true
      ? '<footer id="metadata-footer"><span class="url"><b>URL:</b> <span data-field="url"></span></span><span><b>REC_T:</b> <span data-field="time">0</span></span><span data-field="state"></span></footer>'
      : '';
  const body = `${header}<main class="theme-${theme}" data-mode="${mode}"><div class="layout"><div class="stage"><div id="player"></div>${footer}${timeline}</div>${inspector}</div><p id="message"></p></main>`;
  return page(`Recording ${data.recording.id}`, body, head);
}
