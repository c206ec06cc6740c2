import { escapeHtml } from '../../lib/html.js';

/** What a public page gets (PostHog's exported_data of a shared recording). */
export interface ExportedRecording {
  type: 'scene' | 'embed';
  /** The link's token; a signed-in user's player (/replay) has none. */
  accessToken?: string;
  /** An unlocked password share's JWT, which the player sends as its Bearer credential. */
  shareToken?: string;
  recording: { id: string; recording_duration: number; start_time: string | null; end_time: string | null };
  [setting: string]: unknown;
}

/**
 * The recorded page is data, never code: only Burrow's own scripts run, rrweb replays into a sandboxed frame without
 * scripts, and nothing is fetched from the recorded site's hosts (its images and fonts stay blank) unless the team
 * opted in, and then by the viewer's browser, never by Burrow.
 */
export function contentSecurityPolicy({ embedded, remoteAssets }: { embedded: boolean; remoteAssets: boolean }): string {
  // The team's session_recording_remote_assets_opt_in lets the viewer's browser load them from the recorded hosts.
  const remote = remoteAssets ? ' https:' : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'unsafe-inline'${remote}`,
    `img-src 'self' data: blob:${remote}`,
    `font-src 'self' data:${remote}`,
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${embedded ? '*' : "'none'"}`,
  ].join('; ');
}

const PAGE_STYLE = `body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: #1d1f27; background: #fafafa; }
  header { padding: .75rem 1rem; border-bottom: 1px solid #e5e5ea; background: #fff; }
  main { padding: 1rem; } #message { color: #6b6f7b; } .error { color: #c42b1c; }`;

export function page(title: string, body: string, extraHead = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
${extraHead}
</head>
<body>
${body}
</body>
</html>
`;
}

export function notFoundPage(): string {
  return page('Not found', '<main><h1>Not found</h1><p>This link does not exist, has expired or is no longer shared.</p></main>');
}

/** The unlock form of a password-protected link; it posts the password back to the page's own path, no script needed. */
export function unlockPage(incorrect: boolean): string {
  const error = incorrect ? '<p class="error" role="alert">Incorrect password</p>' : '';
  return page(
    'Password protected',
    `<main><h1>This recording is password protected</h1>${error}
<form method="post"><label>Password <input type="password" name="password" autocomplete="current-password" required autofocus></label> <button type="submit">Open</button></form></main>`,
  );
}
