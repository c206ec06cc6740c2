import type { WebPaths } from '../paths.js';
import { layout, messages } from './layout.js';

/** The user's exports, with a download link for each finished one. */
export function exportsPage(paths: WebPaths, user: string): string {
  return layout({
    paths,
    page: 'exports',
    title: 'Exports',
    user,
    main: `<h1>Exports</h1>
<p>Files you exported: heatmap images, recording videos and frames, tables. Each one is kept for a while, then expires.</p>
${messages()}
<div class="table-wrap"><table class="stack" id="exports"><caption class="visually-hidden">Exports</caption>
<thead><tr><th scope="col">File</th><th scope="col">Format</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Download</span></th></tr></thead>
<tbody><tr><td colspan="5">Loading…</td></tr></tbody></table></div>`,
  });
}
