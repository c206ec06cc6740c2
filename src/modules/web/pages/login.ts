import { escapeHtml } from '../../../lib/html.js';
import type { WebPaths } from '../paths.js';
import { layout } from './layout.js';

/** The sign-in form: the script posts it to /api/login/ (with the CSRF cookie's token) and then opens `next`. */
export function loginPage(paths: WebPaths, next: string, version: string): string {
  return layout({
    paths,
    page: 'login',
    title: 'Sign in',
    data: { next },
    main: `<section class="card narrow">
<h1>Sign in to Burrow</h1>
<p>A self-hosted server that speaks PostHog's REST API. <a href="/docs">API documentation</a> · <a href="/_health">health</a> · version ${escapeHtml(version)}</p>
<form id="login-form" method="post" action="/api/login/" novalidate>
<p><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<p><button type="submit">Sign in</button></p>
<p id="login-error" class="message error" role="alert"></p>
</form>
<p class="hint">On a new server the first account's email and password are in <code>data/initial-credentials.json</code>.</p>
</section>`,
  });
}
