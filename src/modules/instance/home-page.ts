import { escapeHtml } from '../../lib/html.js';

/** The page a browser gets at /, until Burrow has pages of its own: what this is, where to go next, its health. */
export function homePage(options: { version: string; healthy: boolean; origin: string }): string {
  const status = options.healthy ? 'ok: the database answers' : 'unavailable: the database does not answer';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Burrow</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1d1f27; }
  code, pre { font: 14px ui-monospace, monospace; background: #f2f2f5; border-radius: 4px; }
  pre { padding: .75rem; overflow-x: auto; }
  .status { font-weight: 600; color: ${options.healthy ? '#1a7f37' : '#b42318'}; }
</style>
</head>
<body>
<h1>Burrow</h1>
<p>A self-hosted server that speaks PostHog's REST API: saved heatmaps and their screenshots, the project tree, and
more to come. Point curl with a personal API key, posthog-js or the PostHog web app at it. Version ${options.version}.</p>
<p>Health: <span class="status">${status}</span> (<a href="/_health">/_health</a>)</p>
<h2>Where to go</h2>
<ul>
<li><a href="/docs">API documentation</a>: every endpoint, also as <a href="/docs/yaml">OpenAPI YAML</a>.</li>
<li>The README's quick start, in the repository: <code>npm ci &amp;&amp; npm start</code> creates the first account and
saves its credentials to <code>data/initial-credentials.json</code>.</li>
</ul>
<h2>First call</h2>
<pre>KEY=$(node -p "require('./data/initial-credentials.json').personal_api_key")
curl -H "Authorization: Bearer $KEY" ${escapeHtml(options.origin)}/api/projects/@current/</pre>
</body>
</html>
`;
}
