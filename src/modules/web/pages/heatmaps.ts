import { escapeHtml } from '../../../lib/html.js';
import type { WebPaths } from '../paths.js';
import { layout, messages } from './layout.js';

const DATE_RANGES = [
  ['-24h', 'Last 24 hours'],
  ['-7d', 'Last 7 days'],
  ['-30d', 'Last 30 days'],
  ['-90d', 'Last 90 days'],
] as const;

export const dateRangeOptions = (selected = '-7d') =>
  DATE_RANGES.map(([value, label]) => `<option value="${value}"${value === selected ? ' selected' : ''}>${label}</option>`).join('');

/** The saved heatmaps, with their status and a thumbnail of their screenshot. */
export function heatmapsPage(paths: WebPaths, user: string): string {
  return layout({
    paths,
    page: 'heatmaps',
    title: 'Heatmaps',
    user,
    main: `<h1>Heatmaps</h1>
<p>Saved heatmaps of this project: a screenshot of the page with where visitors clicked, moved and scrolled.</p>
${messages()}
<ul id="heatmaps" class="cards" aria-label="Saved heatmaps"><li>Loading…</li></ul>`,
  });
}

/** One saved heatmap: its screenshot with the server-drawn overlay, and the width, type and dates it is drawn for. */
export function heatmapPage(paths: WebPaths, user: string, shortId: string): string {
  return layout({
    paths,
    page: 'heatmap',
    title: 'Heatmap',
    user,
    data: { shortId },
    main: `<p class="crumbs"><a href="${escapeHtml(paths.heatmaps)}">Heatmaps</a> /</p>
<h1 id="heatmap-title">Heatmap</h1>
<p class="meta"><span id="heatmap-url"></span> · status <span id="heatmap-status" class="status">…</span></p>
<form id="heatmap-controls" class="controls">
<p><label for="width">Width</label><select id="width" name="width"></select></p>
<p><label for="type">Data</label><select id="type" name="type">
<option value="click">Clicks</option><option value="rageclick">Rage clicks</option><option value="mousemove">Mouse moves</option><option value="scrolldepth">Scroll depth</option></select></p>
<p><label for="date_from">From</label><select id="date_from" name="date_from">${dateRangeOptions()}</select></p>
<p><label for="date_to">To (optional)</label><input id="date_to" name="date_to" type="date"></p>
<p><label class="inline"><input id="show-overlay" type="checkbox" checked> Show the heatmap</label></p>
</form>
<p class="actions"><button type="button" id="regenerate">Regenerate screenshot</button> <button type="button" id="export-png">Export to PNG</button></p>
${messages()}
<figure class="shot"><img id="heatmap-image" alt="The page's screenshot with the heatmap drawn over it" hidden><figcaption id="image-caption"></figcaption></figure>`,
  });
}
