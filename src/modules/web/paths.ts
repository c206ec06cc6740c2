/**
 * Every URL Burrow's own pages link to, built from the module's base path: '' by default (the pages at /, /heatmaps,
 * ...), '/burrow' when the PostHog web app is served at the root. The API, /docs and share links stay where they are.
 */
export function webPaths(basePath: string) {
  const base = basePath.replace(/\/+$/, '');
  return {
    basePath: base,
    home: `${base}/`,
    login: `${base}/login`,
    heatmaps: `${base}/heatmaps`,
    heatmap: (shortId: string) => `${base}/heatmaps/${encodeURIComponent(shortId)}`,
    replay: `${base}/replay`,
    exports: `${base}/exports`,
    subscriptions: `${base}/subscriptions`,
    asset: (file: string, version: string) => `${base}/web-assets/${file}?v=${version}`,
    /** The signed-in recording player (sharing's replay route), which moves under the base path with the pages. */
    player: (teamId: number | string, sessionId: string) => `${base}/project/${teamId}/replay/${encodeURIComponent(sessionId)}`,
    /** Where a sign-in may send the browser next: a path of these pages only, never another origin. */
    safeNext(next: string | undefined): string {
      if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return `${base}/`;
      if (base && next !== base && !next.startsWith(`${base}/`) && !next.startsWith(`${base}?`)) return `${base}/`;
      return next;
    },
  };
}

export type WebPaths = ReturnType<typeof webPaths>;
