import type { Job, JobDefinitions, JobKind, JobLogger, JobPayload } from './queue.js';
import type { AppJobDefinitions, AppJobQueue } from './kinds.js';
import { createHeatmapRenderHandler, type HeatmapRenderDeps } from './handlers/heatmap-render.js';
import { createHeatmapsRecoverHandler, type HeatmapsRecoverDeps, scheduleHeatmapsRecover } from './handlers/heatmaps-recover.js';
import { createMaintenancePurgeHandler, type MaintenancePurgeDeps, scheduleMaintenancePurge } from './handlers/maintenance-purge.js';

export interface JobContext<Payload> {
  job: Job;
  payload: Payload;
  /** Aborted when the worker loses the job's lease or gives up waiting for it at shutdown. */
  signal: AbortSignal;
  /** Carries jobId, kind, attempt and the enqueuing request's requestId. */
  log: JobLogger;
}

/** Handlers must be idempotent: after a crash or a lost lease, a job runs again from the start. */
export type JobHandler<Payload> = (context: JobContext<Payload>) => Promise<void>;

export type JobHandlers<Defs extends JobDefinitions> = { [K in JobKind<Defs>]: JobHandler<JobPayload<Defs, K>> };

export type JobHandlerDeps = MaintenancePurgeDeps & HeatmapRenderDeps & HeatmapsRecoverDeps;

/** The one place app job kinds meet their handlers; leaving a kind out is a type error. */
export function createJobHandlers(deps: JobHandlerDeps): JobHandlers<AppJobDefinitions> {
  return {
    'maintenance.purge': createMaintenancePurgeHandler(deps),
    'heatmap.render': createHeatmapRenderHandler(deps),
    'heatmaps.recover': createHeatmapsRecoverHandler(deps),
  };
}

/** Catches at start-up what the types cannot (handlers built dynamically or cast). */
export function assertEveryKindHasHandler(definitions: JobDefinitions, handlers: Partial<Record<string, unknown>>): void {
  const missing = Object.keys(definitions).filter((kind) => typeof handlers[kind] !== 'function');
  if (missing.length > 0) throw new Error(`No job handler registered for: ${missing.join(', ')}`);
}

/** Jobs that re-enqueue themselves; called whenever a worker starts, in case the chain was broken. */
export async function ensureRecurringJobs(queue: Pick<AppJobQueue, 'enqueue'>): Promise<void> {
  await scheduleMaintenancePurge(queue);
  await scheduleHeatmapsRecover(queue);
}
