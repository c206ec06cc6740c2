import type { HeatmapsRepository } from '../../services/heatmaps/repository.js';
import { STALE_PROCESSING_MS } from '../../services/heatmaps/service.js';
import type { AppJobPayload, AppJobQueue } from '../kinds.js';
import type { JobHandler } from '../registry.js';
import { enqueueHeatmapRender } from './heatmap-render.js';

export const HEATMAPS_RECOVER_DEDUPE_KEY = 'heatmaps.recover';
export const HEATMAPS_RECOVER_INTERVAL_MS = 5 * 60 * 1000;

export interface HeatmapsRecoverDeps {
  heatmaps: Pick<HeatmapsRepository, 'stuckInProcessing'>;
  queue: Pick<AppJobQueue, 'enqueue'>;
}

export async function scheduleHeatmapsRecover(queue: Pick<AppJobQueue, 'enqueue'>, delayMs = 0): Promise<void> {
  await queue.enqueue('heatmaps.recover', {}, { dedupeKey: HEATMAPS_RECOVER_DEDUPE_KEY, delayMs });
}

/**
 * No heatmap stays processing forever: a screenshot whose render was lost (its job gave up while its worker kept
 * dying, say) and that nobody opens again is queued again every few minutes; the render resumes where it stopped.
 */
export function createHeatmapsRecoverHandler(deps: HeatmapsRecoverDeps): JobHandler<AppJobPayload<'heatmaps.recover'>> {
  return async ({ log }) => {
    await scheduleHeatmapsRecover(deps.queue, HEATMAPS_RECOVER_INTERVAL_MS);
    const stuck = await deps.heatmaps.stuckInProcessing(new Date(Date.now() - STALE_PROCESSING_MS));
    for (const heatmap of stuck) {
      await enqueueHeatmapRender(deps.queue, { heatmapId: heatmap.id, teamId: heatmap.teamId });
    }
    if (stuck.length > 0) log.info({ heatmaps: stuck.length }, 'queued renders for heatmaps stuck in processing');
  };
}
