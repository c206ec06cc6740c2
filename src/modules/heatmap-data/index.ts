import type { Logger } from 'pino';
import type { Db } from '../../db/client.js';
import type { HeatmapsService } from '../heatmaps/index.js';
import { createHeatmapDataRepository } from './repository.js';
import { heatmapDataRoutes } from './routes.js';
import { createHeatmapDataService } from './service.js';

export type { HeatmapDataService } from './service.js';
export type { OverlayQueryInput } from './contract.js';

/** The heatmap query API over the points capture stores, and the points drawn over saved heatmaps' screenshots. */
export function createHeatmapDataModule({ db, screenshots, log }: { db: Db; screenshots: Pick<HeatmapsService, 'screenshot' | 'screenshotOfPage'>; log: Logger }) {
  const service = createHeatmapDataService({ heatmapData: createHeatmapDataRepository(db), screenshots, log });
  return { routes: heatmapDataRoutes(service), service };
}
