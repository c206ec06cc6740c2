import type { AppJobPayload, AppJobQueue } from '../kinds.js';
import type { JobHandler } from '../registry.js';

export const MAINTENANCE_PURGE_DEDUPE_KEY = 'maintenance.purge';
export const MAINTENANCE_PURGE_INTERVAL_MS = 60 * 60 * 1000;
export const FINISHED_JOB_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface MaintenancePurgeDeps {
  /** Deletes browser sessions past expires_at; returns how many. */
  purgeExpiredSessions(): Promise<number>;
  queue: Pick<AppJobQueue, 'enqueue' | 'pruneFinished'>;
}

/** Enqueues the purge unless one is already queued (due now or later), so one is queued per database. */
export async function scheduleMaintenancePurge(queue: Pick<AppJobQueue, 'enqueue'>, delayMs = 0): Promise<void> {
  await queue.enqueue('maintenance.purge', {}, { dedupeKey: MAINTENANCE_PURGE_DEDUPE_KEY, delayMs });
}

export function createMaintenancePurgeHandler(deps: MaintenancePurgeDeps): JobHandler<AppJobPayload<'maintenance.purge'>> {
  return async ({ log }) => {
    // The next run is scheduled before this one does its work, so the hourly chain survives a failed run:
    // this run's retry then meets the queued next run's dedupe key and is closed as superseded.
    await scheduleMaintenancePurge(deps.queue, MAINTENANCE_PURGE_INTERVAL_MS);
    const sessions = await deps.purgeExpiredSessions();
    const jobs = await deps.queue.pruneFinished(new Date(Date.now() - FINISHED_JOB_RETENTION_MS));
    log.info({ sessions, jobs }, 'purged expired sessions and old finished jobs');
  };
}
