import type { Db } from '../../db/client.js';
import { createHeatmapDataRepository } from './repository.js';
import { heatmapDataRoutes } from './routes.js';
import { createHeatmapDataService } from './service.js';

/** The heatmap query API over the points capture stores. */
export function createHeatmapDataModule({ db }: { db: Db }) {
  const service = createHeatmapDataService({ heatmapData: createHeatmapDataRepository(db) });
  return { routes: heatmapDataRoutes(service), service };
}
