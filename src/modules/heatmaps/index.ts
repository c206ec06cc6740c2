import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { BrowserPool } from '../../browser/pool.js';
import { isPermanentRenderError } from '../../browser/errors.js';
import { createPageRenderer, createScreenshotRenderer } from './screenshots/renderer.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { FileSystemModule } from '../file-system/index.js';
import { createHeatmapJobs, type HeatmapJobQueue } from './jobs.js';
import { createHeatmapsRepository } from './repository.js';
import { heatmapsRoutes } from './routes.js';
import { createHeatmapsService } from './service.js';
import { createHeatmapTreeType } from './tree.js';

export { heatmapJobDefinitions } from './jobs.js';
export type { ContentResult, HeatmapsService } from './service.js';
export type { PageRenderer, PageShotRequest } from './screenshots/renderer.js';
export { SavedHeatmapSchema, ShortIdParams } from './contract.js';

export interface HeatmapsModuleDeps {
  db: Db;
  queue: HeatmapJobQueue;
  guard: UrlGuard;
  browser: BrowserPool;
  renderSettings: Config['render'];
  tree: Pick<FileSystemModule['tree'], 'syncObject' | 'addObjectType'>;
}

/** Saved heatmaps (/saved/) and their screenshots, rendered by jobs; each heatmap has a row in the project tree. */
export function createHeatmapsModule({ db, queue, guard, browser, renderSettings, tree }: HeatmapsModuleDeps) {
  const heatmaps = createHeatmapsRepository(db);
  tree.addObjectType(createHeatmapTreeType(heatmaps));
  const service = createHeatmapsService({ db, heatmaps, queue, guard, tree });
  return {
    routes: heatmapsRoutes(service),
    /** Saved heatmaps' screenshots, for the overlay of the heatmap data. */
    screenshots: service,
    /** One screenshot of any page, not stored, through the same renderer and guard (heatmap exports of unsaved pages). */
    renderPage: createPageRenderer({ pool: browser, guard, settings: renderSettings }),
    jobs: createHeatmapJobs({
      heatmaps,
      queue,
      guard,
      render: createScreenshotRenderer({ pool: browser, guard, settings: renderSettings }),
      isPermanentFailure: isPermanentRenderError,
    }),
  };
}
