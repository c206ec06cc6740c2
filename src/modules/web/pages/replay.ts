import { escapeHtml } from '../../../lib/html.js';
import type { WebPaths } from '../paths.js';
import { layout, messages } from './layout.js';

export interface ReplayFilters {
  date_from?: string | undefined;
  date_to?: string | undefined;
  url?: string | undefined;
  min_duration?: string | undefined;
  console_errors?: string | undefined;
}

const RANGES = [
  ['-24h', 'Last 24 hours'],
  ['-3d', 'Last 3 days'],
  ['-7d', 'Last 7 days'],
  ['-30d', 'Last 30 days'],
  ['-90d', 'Last 90 days'],
] as const;

/** The recordings with the main filters; the form is a plain GET of this page, so a filtered list is a link. */
export function replayPage(paths: WebPaths, user: string, filters: ReplayFilters): string {
  const from = filters.date_from ?? '-3d';
  const ranges = RANGES.map(([value, label]) => `<option value="${value}"${value === from ? ' selected' : ''}>${label}</option>`).join('');
  return layout({
    paths,
    page: 'replay',
    title: 'Replay',
    user,
    data: { filters },
    main: `<h1>Session replay</h1>
<form id="replay-filters" class="controls" method="get" action="${escapeHtml(paths.replay)}">
<p><label for="date_from">Started</label><select id="date_from" name="date_from">${ranges}</select></p>
<p><label for="date_to">Until (optional)</label><input id="date_to" name="date_to" type="date" value="${escapeHtml(filters.date_to ?? '')}"></p>
<p><label for="url">Visited URL contains</label><input id="url" name="url" value="${escapeHtml(filters.url ?? '')}"></p>
<p><label for="min_duration">Longer than (seconds)</label><input id="min_duration" name="min_duration" type="number" min="0" inputmode="numeric" value="${escapeHtml(filters.min_duration ?? '')}"></p>
<p><label class="inline"><input id="console_errors" name="console_errors" type="checkbox" value="1"${filters.console_errors ? ' checked' : ''}> With console errors</label></p>
<p><button type="submit">Apply filters</button></p>
</form>
${messages()}
<div id="share-link" class="reveal" role="status" aria-live="polite" hidden></div>
<div class="table-wrap"><table class="stack" id="recordings"><caption class="visually-hidden">Recordings</caption>
<thead><tr><th scope="col">Started</th><th scope="col">Person</th><th scope="col">Duration</th><th scope="col">First URL</th><th scope="col">Errors</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody><tr><td colspan="6">Loading…</td></tr></tbody></table></div>
<p><button type="button" id="more" hidden>Load more</button></p>`,
  });
}
