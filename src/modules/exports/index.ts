import type { BrowserPool } from '../../browser/pool.js';
import type { Db } from '../../db/client.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { BlobStore } from '../../storage/index.js';
import type { HeatmapProducerDeps } from './producers/heatmap.js';
import { createInternalApi } from './internal-api.js';
import { createExportJobs, type ExportJobQueue } from './jobs.js';
import { createExportsRepository } from './repository.js';
import { exporterRoutes, exportsRoutes } from './routes.js';
import { createExportsService } from './service.js';

export { exportJobDefinitions } from './jobs.js';
export type { ExportsService } from './service.js';
export type { InternalApi } from './internal-api.js';
export { checkFfmpeg } from './producers/ffmpeg.js';

export interface ExportsModuleDeps extends HeatmapProducerDeps {
  db: Db;
  queue: ExportJobQueue;
  blobs: BlobStore;
  guard: UrlGuard;
  signingKey: () => Promise<string>;
  createWaitMs: number;
  /** The warm browser: recording PNGs and videos render the player in it. */
  browser: Pick<BrowserPool, 'withPage'>;
  /** FFMPEG_PATH (recording videos); unset, `ffmpeg` on PATH. */
  ffmpegPath: string | undefined;
}

/** Exports (/exports/) and their public links (/exporter/); files are produced by jobs and kept in the blob store. */
export function createExportsModule({ db, queue, blobs, guard, signingKey, createWaitMs, heatmaps, renderPage, browser, ffmpegPath }: ExportsModuleDeps) {
  const exports = createExportsRepository(db);
  const internalApi = createInternalApi();
  const service = createExportsService({ db, exports, queue, blobs, guard, signingKey, createWaitMs });
  return {
    routes: exportsRoutes(service),
    publicRoutes: exporterRoutes(service),
    service,
    /** Where the HTTP app attaches itself, so export jobs can call the API as the export's creator. */
    internalApi,
    jobs: createExportJobs({ exports, blobs, queue, api: internalApi, signingKey, heatmaps, renderPage, browser, ffmpegPath }),
  };
}
