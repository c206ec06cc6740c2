import { z } from 'zod';
import type { Db } from '../../db/client.js';
import type { JobDefinitions, JobEnqueuer } from '../../jobs/queue.js';
import { HostNotResolvedError } from '../../browser/errors.js';
import type { AreaJobs, JobHandler } from '../../jobs/registry.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { HeatmapsRepository } from './repository.js';
import type { RenderRequest } from './screenshots/renderer.js';
import { resolveWidths, STALE_PROCESSING_MS } from './rules.js';

/** One attempt and three retries (2, 4 and 8 s apart), as PostHog's task. */
const MAX_ATTEMPTS = 4;
const RECOVER_DEDUPE_KEY = 'heatmaps.recover';
const RECOVER_INTERVAL_MS = 5 * 60 * 1000;

export const heatmapJobDefinitions = {
  'heatmap.render': z.object({ heatmapId: z.uuid(), teamId: z.number().int() }),
  'heatmaps.recover': z.object({}),
} satisfies JobDefinitions;

export type HeatmapJobQueue = JobEnqueuer<typeof heatmapJobDefinitions>;
type RenderPayload = z.output<(typeof heatmapJobDefinitions)['heatmap.render']>;

/** The one way a render is asked for: at most one queued render per heatmap (the heatmap id is the dedupe key). */
export function enqueueHeatmapRender(queue: HeatmapJobQueue, payload: RenderPayload, options: { tx?: Db; requestId?: string } = {}) {
  return queue.enqueue('heatmap.render', payload, { ...options, dedupeKey: payload.heatmapId, maxAttempts: MAX_ATTEMPTS });
}

async function scheduleRecover(queue: HeatmapJobQueue, delayMs = 0): Promise<void> {
  await queue.enqueue('heatmaps.recover', {}, { dedupeKey: RECOVER_DEDUPE_KEY, delayMs });
}

export interface HeatmapRenderDeps {
  heatmaps: Pick<HeatmapsRepository, 'findForRender' | 'snapshotSummaries' | 'storeSnapshot' | 'markCompleted' | 'markFailed'>;
  guard: UrlGuard;
  /** Renders the widths (see screenshots/); `stopped` when onScreenshot answered false. */
  render(request: RenderRequest): Promise<{ stopped: boolean }>;
  /** Whether retrying cannot help (no browser, a blocked URL); such failures end the heatmap at once. */
  isPermanentFailure(error: unknown): boolean;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 4000);

/**
 * Renders every width of a screenshot heatmap in one call to the renderer, storing each width as soon as it is
 * ready. A rerun (retry, crash, lost lease) renders only the widths not stored yet for the current render
 * generation; a render whose generation was superseded (regenerate, new url) stops without writing.
 */
export function createHeatmapRenderHandler(deps: HeatmapRenderDeps): JobHandler<RenderPayload> {
  return async ({ job, payload, signal, log }) => {
    const heatmap = await deps.heatmaps.findForRender(payload.teamId, payload.heatmapId);
    if (!heatmap || heatmap.type !== 'screenshot' || heatmap.status !== 'processing') {
      log.info({ heatmapId: payload.heatmapId }, 'nothing to render');
      return;
    }
    const generation = heatmap.renderGeneration;
    const heatmapLog = log.child({ heatmapId: heatmap.id, generation });
    try {
      const verdict = await deps.guard.check(heatmap.url);
      // Create lets a name that does not resolve through, as PostHog does; the render needs it to resolve now.
      if (!verdict.allowed && verdict.unresolved) throw new HostNotResolvedError(verdict.unresolved.host);
      if (!verdict.allowed) {
        await deps.heatmaps.markFailed(heatmap.id, generation, `SSRF blocked: ${verdict.reason}`);
        return;
      }
      const stored = new Set((await deps.heatmaps.snapshotSummaries([heatmap.id])).filter((s) => s.hasContent).map((s) => s.width));
      const widths = resolveWidths(heatmap.targetWidths).filter((width) => !stored.has(width));
      if (widths.length > 0) {
        const { stopped } = await deps.render({
          url: heatmap.url,
          widths,
          blockConsentModals: heatmap.blockConsentModals,
          signal,
          log: heatmapLog,
          onScreenshot: async ({ width, jpeg, durationMs }) => {
            const storing = Date.now();
            if (!(await deps.heatmaps.storeSnapshot(heatmap.id, generation, width, jpeg))) {
              heatmapLog.info('a newer render took over; stopping');
              return false;
            }
            heatmapLog.info({ width, bytes: jpeg.length, durationMs: durationMs + (Date.now() - storing) }, 'stored screenshot');
            return true;
          },
        });
        if (stopped) return;
      }
      await deps.heatmaps.markCompleted(heatmap.id, generation);
    } catch (error) {
      // A lost lease or a shutdown: the job runs again elsewhere, with the widths stored so far.
      if (signal.aborted) throw error;
      if (deps.isPermanentFailure(error) || job.attempts >= job.maxAttempts) {
        heatmapLog.warn({ err: error, attempt: job.attempts }, 'screenshot failed for good');
        await deps.heatmaps.markFailed(heatmap.id, generation, describe(error));
        return;
      }
      throw error;
    }
  };
}

export interface HeatmapJobsDeps extends HeatmapRenderDeps {
  heatmaps: HeatmapRenderDeps['heatmaps'] & Pick<HeatmapsRepository, 'stuckInProcessing'>;
  queue: HeatmapJobQueue;
}

/**
 * Renders, and the sweep that keeps any heatmap from staying processing forever: a screenshot whose render was lost
 * (its job gave up while its worker kept dying, say) and that nobody opens again is queued again every few
 * minutes; the render resumes where it stopped.
 */
export function createHeatmapJobs(deps: HeatmapJobsDeps): AreaJobs<typeof heatmapJobDefinitions> {
  return {
    definitions: heatmapJobDefinitions,
    handlers: {
      'heatmap.render': createHeatmapRenderHandler(deps),
      'heatmaps.recover': async ({ log }) => {
        await scheduleRecover(deps.queue, RECOVER_INTERVAL_MS);
        const stuck = await deps.heatmaps.stuckInProcessing(new Date(Date.now() - STALE_PROCESSING_MS));
        for (const heatmap of stuck) await enqueueHeatmapRender(deps.queue, { heatmapId: heatmap.id, teamId: heatmap.teamId });
        if (stuck.length > 0) log.info({ heatmaps: stuck.length }, 'queued renders for heatmaps stuck in processing');
      },
    },
    schedule: () => scheduleRecover(deps.queue),
  };
}
