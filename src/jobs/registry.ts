import type { Job, JobDefinitions, JobKind, JobLogger, JobPayload } from './queue.js';

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

/** A handler of some kind's payload; every JobHandler is one. */
export type AnyJobHandler = JobHandler<never>;

/**
 * An area's jobs: the kinds it defines with their payload schemas, a handler for each (leaving one out is a type
 * error), and the recurring jobs it keeps scheduled. Each area declares these in its own jobs.ts.
 */
export interface AreaJobs<Defs extends JobDefinitions> {
  definitions: Defs;
  handlers: JobHandlers<Defs>;
  /** Enqueues the area's recurring jobs unless one is already queued; runs whenever a worker starts. */
  schedule?(): Promise<void>;
}

export interface MergedJobs {
  definitions: JobDefinitions;
  handlers: Readonly<Record<string, AnyJobHandler>>;
  schedule(): Promise<void>;
}

/** Every area's jobs as one set; a kind that two areas define stops the start. */
export function mergeJobs(areas: readonly AreaJobs<JobDefinitions>[]): MergedJobs {
  const definitions: JobDefinitions = {};
  const handlers: Record<string, AnyJobHandler> = {};
  for (const area of areas) {
    for (const kind of Object.keys(area.definitions)) {
      if (kind in definitions) throw new Error(`Job kind ${kind} is defined twice`);
      definitions[kind] = area.definitions[kind]!;
    }
    Object.assign(handlers, area.handlers);
  }
  return {
    definitions,
    handlers,
    async schedule() {
      for (const area of areas) await area.schedule?.();
    },
  };
}

/** Catches at start-up what the types cannot (handlers built dynamically or cast). */
export function assertEveryKindHasHandler(definitions: JobDefinitions, handlers: Partial<Record<string, unknown>>): void {
  const missing = Object.keys(definitions).filter((kind) => typeof handlers[kind] !== 'function');
  if (missing.length > 0) throw new Error(`No job handler registered for: ${missing.join(', ')}`);
}
