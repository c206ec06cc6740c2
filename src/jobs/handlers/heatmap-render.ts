import type { UrlGuard } from '../../net/url-guard.js';
import { DEFAULT_TARGET_WIDTHS, MAX_TARGET_WIDTHS, MAX_WIDTH, MIN_WIDTH } from '../../routes/heatmaps/schemas.js';
import type { HeatmapsRepository } from '../../services/heatmaps/repository.js';
import type { Db } from '../../db/client.js';
import type { AppJobPayload, AppJobQueue } from '../kinds.js';
import type { JobLogger } from '../queue.js';
import type { JobHandler } from '../registry.js';

/** One attempt and three retries (2, 4 and 8 s apart), as PostHog's task. */
const MAX_ATTEMPTS = 4;

/** The one way a render is asked for: at most one queued render per heatmap (the heatmap id is the dedupe key). */
export function enqueueHeatmapRender(
  queue: Pick<AppJobQueue, 'enqueue'>,
  payload: AppJobPayload<'heatmap.render'>,
  options: { tx?: Db; requestId?: string } = {},
) {
  return queue.enqueue('heatmap.render', payload, { ...options, dedupeKey: payload.heatmapId, maxAttempts: MAX_ATTEMPTS });
}

/** One width as the renderer hands it over. */
export interface RenderedWidth {
  width: number;
  jpeg: Buffer;
  /** The renderer's time for this width (see ScreenshotResult.durationMs). */
  durationMs: number;
}

export interface RenderRequest {
  url: string;
  /** The widths to render, in order; the renderer shares one page among the widths of each device kind. */
  widths: readonly number[];
  blockConsentModals: boolean;
  signal: AbortSignal;
  log: JobLogger;
  /** Each width as soon as it is rendered; answering false stops the render (a newer generation took over). */
  onScreenshot(shot: RenderedWidth): Promise<boolean>;
}

export interface HeatmapRenderDeps {
  heatmaps: Pick<HeatmapsRepository, 'findForRender' | 'snapshotSummaries' | 'storeSnapshot' | 'markCompleted' | 'markFailed'>;
  guard: UrlGuard;
  /** Renders the widths (modules/heatmaps/screenshots renderWidths); `stopped` when onScreenshot answered false. */
  render(request: RenderRequest): Promise<{ stopped: boolean }>;
  /** Whether retrying cannot help (no browser, a blocked URL); such failures end the heatmap at once. */
  isPermanentFailure(error: unknown): boolean;
}

/** PostHog's _resolve_widths: valid widths in order without repeats, the defaults when none are set, at most 16. */
export function resolveWidths(target: readonly unknown[]): number[] {
  const source = target.length > 0 ? target : DEFAULT_TARGET_WIDTHS;
  const widths = [...new Set(source.filter((w): w is number => Number.isInteger(w) && (w as number) >= MIN_WIDTH && (w as number) <= MAX_WIDTH))];
  return widths.length > 0 ? widths.slice(0, MAX_TARGET_WIDTHS) : [1024];
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 4000);

/**
 * Renders every width of a screenshot heatmap in one call to the renderer, storing each width as soon as it is
 * ready. A rerun (retry, crash, lost lease) renders only the widths not stored yet for the current render
 * generation; a render whose generation was superseded (regenerate, new url) stops without writing.
 */
export function createHeatmapRenderHandler(deps: HeatmapRenderDeps): JobHandler<AppJobPayload<'heatmap.render'>> {
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
