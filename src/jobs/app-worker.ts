import type { Config } from '../config.js';
import type { JobDefinitions, JobLogger, JobQueue } from './queue.js';
import type { MergedJobs } from './registry.js';
import { createWorker, type Worker } from './worker.js';

export interface AppWorkerDeps {
  queue: JobQueue<JobDefinitions>;
  /** Every area's jobs (container.ts merges them). */
  jobs: MergedJobs;
  log: JobLogger;
  settings: Pick<Config['workers'], 'concurrency' | 'pollIntervalMs' | 'leaseMs'>;
}

/** Starts a worker for every app job kind, in the server (WORKERS=on) or alone (`npm run worker`). */
export async function startAppWorker({ queue, jobs, log, settings }: AppWorkerDeps): Promise<Worker> {
  const worker = createWorker({
    queue,
    handlers: jobs.handlers,
    log,
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    leaseMs: settings.leaseMs,
  });
  await jobs.schedule();
  await worker.start();
  return worker;
}
