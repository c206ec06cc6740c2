import { escapeHtml, scriptJson } from '../../../lib/html.js';
import { WEB_ASSETS } from '../assets.js';
import type { WebPaths } from '../paths.js';

export interface PageOptions {
  paths: WebPaths;
  /** The page's name: the script's entry point (body[data-page]) and the current navigation link. */
  page: 'login' | 'home' | 'heatmaps' | 'heatmap' | 'replay' | 'exports' | 'subscriptions';
  title: string;
  /** The signed-in user's email; none on the sign-in page (no navigation either). */
  user?: string;
  main: string;
  /** What the page's script needs, as JSON in the page (never in an attribute or inline code). */
  data?: Record<string, unknown>;
}

const NAV: { page: PageOptions['page']; label: string; href: (p: WebPaths) => string }[] = [
  { page: 'home', label: 'Home', href: (p) => p.home },
  { page: 'heatmaps', label: 'Heatmaps', href: (p) => p.heatmaps },
  { page: 'replay', label: 'Replay', href: (p) => p.replay },
  { page: 'exports', label: 'Exports', href: (p) => p.exports },
  { page: 'subscriptions', label: 'Subscriptions', href: (p) => p.subscriptions },
];

function navigation({ paths, page, user }: PageOptions): string {
  if (!user) return '';
  const current = page === 'heatmap' ? 'heatmaps' : page;
  const links = NAV.map(
    (item) => `<li><a href="${escapeHtml(item.href(paths))}"${item.page === current ? ' aria-current="page"' : ''}>${item.label}</a></li>`,
  ).join('');
  return `<nav aria-label="Main"><ul>${links}<li><a href="/docs">API docs</a></li></ul></nav>
<div class="account"><span class="user">${escapeHtml(user)}</span> <button type="button" id="sign-out" class="link">Sign out</button></div>`;
}

/** The frame of every page: one style sheet, one deferred script, a skip link, the navigation and the main content. */
export function layout(options: PageOptions): string {
  const { paths, page, title } = options;
  const css = WEB_ASSETS['web.css']!;
  const js = WEB_ASSETS['web.js']!;
  const data = { basePath: paths.basePath, page, ...options.data };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Burrow</title>
<link rel="stylesheet" href="${escapeHtml(paths.asset('web.css', css.version))}">
<script src="${escapeHtml(paths.asset('web.js', js.version))}" defer></script>
<script type="application/json" id="page-data">${scriptJson(data)}</script>
</head>
<body data-page="${page}">
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="${escapeHtml(paths.home)}">Burrow</a>${navigation(options)}</header>
<main id="main" tabindex="-1">
${options.main}
</main>
</body>
</html>
`;
}

/** A live region the script writes errors and confirmations into. */
export const messages = (id = 'message') => `<p id="${id}" class="message" role="status" aria-live="polite"></p>`;
