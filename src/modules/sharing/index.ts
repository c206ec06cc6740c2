import type { Db } from '../../db/client.js';
import { sharingPublicRoutes, type StaticFallback } from './public-routes.js';
import { replayRoutes } from './replay-routes.js';
import { createSharingRepository } from './repository.js';
import { sharingRoutes } from './routes.js';
import { createSharingService, type SharingServiceDeps } from './service.js';

export interface SharingModuleOptions {
  /** Where Burrow's own pages live (config.ts pagesBasePath): the signed-in player is mounted under it. */
  pagesBasePath: string;
  /** The /static/<file> answer for files that are not the player's. */
  staticFallback?: StaticFallback | undefined;
}

/** Share links of recordings (their settings, token rotation, passwords and public pages) and the recording player. */
export function createSharingModule({ db, signingKey, pagesBasePath, staticFallback, ...deps }: { db: Db } & Omit<SharingServiceDeps, 'sharing'> & SharingModuleOptions) {
  // The key is the same for the life of the process; a failed read is tried again next time.
  let key: Promise<string> | undefined;
  const cachedKey = () => (key ??= signingKey().catch((error: unknown) => ((key = undefined), Promise.reject(error))));
  const service = createSharingService({ ...deps, sharing: createSharingRepository(db), signingKey: cachedKey });
  return {
    routes: [sharingRoutes(service), replayRoutes(service, pagesBasePath)],
    publicRoutes: sharingPublicRoutes(service, staticFallback),
    sharedRecordingOf: service.sharedRecordingOf,
  };
}

/** The player page and its policy, for recording exports (which render it in export mode). */
export { recordingPlayerPage } from './player-page.js';
export { contentSecurityPolicy } from './public-pages.js';
