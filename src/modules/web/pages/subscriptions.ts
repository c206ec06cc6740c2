import type { WebPaths } from '../paths.js';
import { dateRangeOptions } from './heatmaps.js';
import { layout, messages } from './layout.js';

/** The project's subscriptions, and a form to subscribe to a saved heatmap or a recordings query. */
export function subscriptionsPage(paths: WebPaths, user: string): string {
  return layout({
    paths,
    page: 'subscriptions',
    title: 'Subscriptions',
    user,
    main: `<h1>Subscriptions</h1>
<p>Reports delivered on a schedule by email or webhook: a saved heatmap's image, or the recordings matching a query.</p>
${messages()}
<div class="table-wrap"><table class="stack" id="subscriptions"><caption class="visually-hidden">Subscriptions</caption>
<thead><tr><th scope="col">Title</th><th scope="col">Reports on</th><th scope="col">Sent to</th><th scope="col">Schedule</th><th scope="col">Next delivery</th></tr></thead>
<tbody><tr><td colspan="5">Loading…</td></tr></tbody></table></div>
<form id="subscription-form" class="card">
<h2>New subscription</h2>
<p><label for="title">Title</label><input id="title" name="title" maxlength="100" required></p>
<fieldset><legend>Reports on</legend>
<p><label class="inline"><input type="radio" name="resource" value="heatmap" checked> A saved heatmap</label>
<label class="inline"><input type="radio" name="resource" value="recordings"> Recordings</label></p>
<p data-resource="heatmap"><label for="saved_heatmap">Saved heatmap</label><select id="saved_heatmap" name="saved_heatmap"></select></p>
<p data-resource="recordings" hidden><label for="recordings_from">Recordings started in the</label><select id="recordings_from" name="recordings_from">${dateRangeOptions('-7d')}</select></p>
<p data-resource="recordings" hidden><label for="recordings_url">Visited URL contains (optional)</label><input id="recordings_url" name="recordings_url"></p>
</fieldset>
<p><label for="target_type">Send by</label><select id="target_type" name="target_type"><option value="email">Email</option><option value="webhook">Webhook</option></select></p>
<p><label for="target_value">To (emails, comma-separated, or the webhook URL)</label><input id="target_value" name="target_value" required></p>
<p><label for="frequency">Every</label><select id="frequency" name="frequency"><option value="daily">Day</option><option value="weekly" selected>Week</option><option value="monthly">Month</option></select></p>
<p><button type="submit">Create subscription</button></p>
</form>`,
  });
}
