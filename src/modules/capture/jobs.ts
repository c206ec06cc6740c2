import { z } from 'zod';
import type { JobDefinitions, JobEnqueuer } from '../../jobs/queue.js';
import type { AreaJobs } from '../../jobs/registry.js';
import type { CaptureService } from './service.js';

export const captureJobDefinitions = {
  'capture.retention': z.object({}),
} satisfies JobDefinitions;

type CaptureJobDefinitions = typeof captureJobDefinitions;

export const RETENTION_DEDUPE_KEY = 'capture.retention';
export const RETENTION_INTERVAL_MS = 24 * 60 * 60 * 1000;
const RETENTION_BATCH = 1000;

async function scheduleRetention(queue: JobEnqueuer<CaptureJobDefinitions>, delayMs = 0): Promise<void> {
  await queue.enqueue('capture.retention', {}, { dedupeKey: RETENTION_DEDUPE_KEY, delayMs });
}

/** Once a day: recordings past their retention, and events past EVENTS_RETENTION_DAYS, are deleted in batches. */
export function createCaptureJobs(deps: {
  queue: JobEnqueuer<CaptureJobDefinitions>;
  capture: Pick<CaptureService, 'purgeExpired'>;
  eventsRetentionDays: number;
}): AreaJobs<CaptureJobDefinitions> {
  return {
    definitions: captureJobDefinitions,
    handlers: {
      'capture.retention': async ({ log }) => {
        // Scheduled first, so a failed run does not end the daily chain (its retry is then closed as superseded).
        await scheduleRetention(deps.queue, RETENTION_INTERVAL_MS);
        const started = Date.now();
        const deleted = await deps.capture.purgeExpired({ eventsRetentionDays: deps.eventsRetentionDays, batchSize: RETENTION_BATCH });
        log.info({ ...deleted, ms: Date.now() - started }, 'deleted recordings and events past their retention');
      },
    },
    schedule: () => scheduleRetention(deps.queue),
  };
}
