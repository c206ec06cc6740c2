import { webPaths } from './paths.js';
import { webRoutes } from './routes.js';

export interface WebModuleOptions {
  /** '' (the pages at /, /heatmaps, ...) or a prefix such as '/burrow' when the PostHog web app owns the root. */
  basePath: string;
  /** SITE_URL, when set; the posthog-js snippet's api_host. */
  siteUrl: string | undefined;
  /** The port the server listens on: the snippet's api_host is http://localhost:PORT without SITE_URL. */
  port: number;
  /** Burrow's version, on the sign-in page. */
  version: string;
}

/** Burrow's own pages for people (sign-in, home, heatmaps, replay, exports, subscriptions), built on the API. */
export function createWebModule({ basePath, siteUrl, port, version }: WebModuleOptions) {
  const paths = webPaths(basePath);
  return { routes: webRoutes({ paths, version, apiHost: siteUrl ?? `http://localhost:${port}` }), paths };
}

export type WebModule = ReturnType<typeof createWebModule>;
