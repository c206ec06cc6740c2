import { API_SCOPE_OBJECTS } from '../../../access/scopes.js';
import { escapeHtml } from '../../../lib/html.js';
import type { WebPaths } from '../paths.js';
import { layout, messages } from './layout.js';

function scopeRows(): string {
  return API_SCOPE_OBJECTS.map(
    (object) => `<tr><th scope="row"><label for="scope-${object}">${escapeHtml(object)}</label></th><td><select id="scope-${object}" name="scope" data-object="${escapeHtml(object)}">
<option value="">No access</option><option value="read">Read</option><option value="write">Write</option></select></td></tr>`,
  ).join('\n');
}

/** The project with its posthog-js snippet, and the user's personal API keys. */
export function homePage(paths: WebPaths, user: string, apiHost: string): string {
  return layout({
    paths,
    page: 'home',
    title: 'Home',
    user,
    data: { apiHost },
    main: `<h1>Home</h1>
<section aria-labelledby="project-heading" class="card">
<h2 id="project-heading">Project</h2>
<dl class="facts" id="project"><dt>Name</dt><dd id="project-name">…</dd><dt>ID</dt><dd id="project-id">…</dd><dt>Project token</dt><dd><code id="project-token">…</code></dd></dl>
<h3>Send data with posthog-js</h3>
<p>Install <code>posthog-js</code> from npm and initialise it with the project token, with <code>api_host</code> pointing at this server:</p>
<pre><code id="snippet">…</code></pre>
<p>The <a href="/docs">API documentation</a> lists every endpoint (also as <a href="/docs/yaml">OpenAPI YAML</a>).</p>
</section>
<section aria-labelledby="keys-heading" class="card">
<h2 id="keys-heading">Personal API keys</h2>
<p>A key calls the API as you: <code>Authorization: Bearer &lt;key&gt;</code>. Its value is shown once, when it is created or rolled.</p>
<div id="key-value" class="reveal" role="status" aria-live="polite" hidden></div>
${messages('keys-message')}
<div class="table-wrap"><table class="stack" id="keys"><caption class="visually-hidden">Your personal API keys</caption>
<thead><tr><th scope="col">Label</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody><tr><td colspan="5">Loading…</td></tr></tbody></table></div>
<form id="key-form">
<h3>Create a key</h3>
<p><label for="key-label">Label</label><input id="key-label" name="label" maxlength="40" required></p>
<fieldset><legend>Access</legend>
<p><label class="inline"><input type="radio" name="access" value="all" checked> All access (<code>*</code>)</label>
<label class="inline"><input type="radio" name="access" value="scoped"> Chosen scopes</label></p>
<details id="scope-details"><summary>Scopes</summary>
<div class="table-wrap"><table class="scopes"><caption class="visually-hidden">Access by object</caption><tbody>
${scopeRows()}
</tbody></table></div></details>
</fieldset>
<p><button type="submit">Create key</button></p>
</form>
</section>`,
  });
}
