import { z } from 'zod';
import type { JobDefinitions, JobKind, JobPayload, JobQueue } from './queue.js';

/** Every job kind the app runs, with the schema of its payload. registry.ts must give each one a handler. */
export const jobDefinitions = {
  'maintenance.purge': z.object({}),
  'heatmap.render': z.object({ heatmapId: z.uuid(), teamId: z.number().int() }),
  'heatmaps.recover': z.object({}),
} satisfies JobDefinitions;

export type AppJobDefinitions = typeof jobDefinitions;
export type AppJobKind = JobKind<AppJobDefinitions>;
export type AppJobPayload<K extends AppJobKind> = JobPayload<AppJobDefinitions, K>;
export type AppJobQueue = JobQueue<AppJobDefinitions>;
