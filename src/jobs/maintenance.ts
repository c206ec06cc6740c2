import { z } from 'zod';
import type { JobDefinitions, JobEnqueuer, JobQueue } from './queue.js';
import type { AreaJobs } from './registry.js';

export const MAINTENANCE_PURGE_DEDUPE_KEY = 'maintenance.purge';
export const MAINTENANCE_PURGE_INTERVAL_MS = 60 * 60 * 1000;
export const FINISHED_JOB_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The queue's own housekeeping, with what it purges for the other areas. */
export const maintenanceJobDefinitions = {
  'maintenance.purge': z.object({}),
} satisfies JobDefinitions;

type MaintenanceDefinitions = typeof maintenanceJobDefinitions;

export interface MaintenanceJobsDeps {
  /** Deletes browser sessions past expires_at; returns how many. */
  purgeExpiredSessions(): Promise<number>;
  queue: JobEnqueuer<MaintenanceDefinitions> & Pick<JobQueue<MaintenanceDefinitions>, 'pruneFinished'>;
}

/** Enqueues the purge unless one is already queued (due now or later), so one is queued per database. */
export async function scheduleMaintenancePurge(queue: JobEnqueuer<MaintenanceDefinitions>, delayMs = 0): Promise<void> {
  await queue.enqueue('maintenance.purge', {}, { dedupeKey: MAINTENANCE_PURGE_DEDUPE_KEY, delayMs });
}

/** Every hour: expired browser sessions and jobs finished more than a week ago are deleted. */
export function createMaintenanceJobs(deps: MaintenanceJobsDeps): AreaJobs<MaintenanceDefinitions> {
  return {
    definitions: maintenanceJobDefinitions,
    handlers: {
      'maintenance.purge': async ({ log }) => {
        // The next run is scheduled before this one does its work, so the hourly chain survives a failed run:
        // this run's retry then meets the queued next run's dedupe key and is closed as superseded.
        await scheduleMaintenancePurge(deps.queue, MAINTENANCE_PURGE_INTERVAL_MS);
        const sessions = await deps.purgeExpiredSessions();
        const jobs = await deps.queue.pruneFinished(new Date(Date.now() - FINISHED_JOB_RETENTION_MS));
        log.info({ sessions, jobs }, 'purged expired sessions and old finished jobs');
      },
    },
    schedule: () => scheduleMaintenancePurge(deps.queue),
  };
}
