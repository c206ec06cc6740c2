import type { Config } from '../config.js';
import type { AppJobQueue } from './kinds.js';
import type { JobLogger } from './queue.js';
import { createJobHandlers, ensureRecurringJobs, type JobHandlerDeps } from './registry.js';
import { createWorker, type Worker } from './worker.js';

export interface AppWorkerDeps {
  queue: AppJobQueue;
  /** What the handlers need besides the queue, e.g. { purgeExpiredSessions: sessionsRepository.deleteExpired }. */
  handlerDeps: Omit<JobHandlerDeps, 'queue'>;
  log: JobLogger;
  settings: Pick<Config['workers'], 'concurrency' | 'pollIntervalMs' | 'leaseMs'>;
}

/** Starts a worker for every app job kind, in the server (WORKERS=on) or alone (`npm run worker`). */
export async function startAppWorker(deps: AppWorkerDeps): Promise<Worker> {
  const { queue, log, settings } = deps;
  const worker = createWorker({
    queue,
    handlers: createJobHandlers({ ...deps.handlerDeps, queue }),
    log,
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    leaseMs: settings.leaseMs,
  });
  await ensureRecurringJobs(queue);
  await worker.start();
  return worker;
}
