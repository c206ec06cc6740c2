import path from 'node:path';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import type { JobDefinitions, JobEnqueuer } from '../../jobs/queue.js';
import type { AreaJobs, JobHandler } from '../../jobs/registry.js';
import { newUuid } from '../../lib/ids.js';
import { encodeJwt, JwtAudience } from '../../lib/jwt.js';
import type { BlobStore } from '../../storage/index.js';
import type { BrowserPool } from '../../browser/pool.js';
import { EXPORT_FORMATS, type ExportFormat, isExportFormat, PDF, TABULAR_FORMATS, VIDEO_FORMATS, XLSX } from './contract.js';
import type { InternalApi } from './internal-api.js';
import { ExportError, TransientExportError } from './errors.js';
import { type HeatmapProducerDeps, produceHeatmapPng } from './producers/heatmap.js';
import { imageToPdf } from './producers/pdf.js';
import { produceRecordingPng, type RecordingTarget } from './producers/recording.js';
import { produceRecordingVideo, type VideoFormat } from './producers/video.js';
import { eventsQueryRows, recordingsQueryRows } from './producers/queries.js';
import { pathRows } from './producers/sources.js';
import { produceTabularFile, type Row, withTempDir } from './producers/tabular.js';
import type { ExportsRepository } from './repository.js';
import { fieldsOf } from './rules.js';

/** Storing the file, or a render that failed for now, is retried with backoff (up to 2, 4, 8 and 16 s apart) before the failure is recorded. */
const MAX_ATTEMPTS = 5;
const PURGE_DEDUPE_KEY = 'exports.purge';
const DAY_MS = 24 * 60 * 60 * 1000;
/** Expired exports deleted per batch, and batches per run; a run that leaves more queues the next one at once. */
export const PURGE_BATCH = 500;
const PURGE_BATCHES_PER_RUN = 20;
/** The internal credential's life, as PostHog's impersonation JWT. */
const INTERNAL_TOKEN_TTL_SECONDS = 15 * 60;

export const exportJobDefinitions = {
  'export.produce': z.object({ exportId: z.number().int() }),
  'exports.purge': z.object({}),
} satisfies JobDefinitions;

export type ExportJobQueue = JobEnqueuer<typeof exportJobDefinitions>;

export function enqueueExport(queue: ExportJobQueue, exportId: number, options: { tx?: Db; requestId?: string } = {}) {
  return queue.enqueue('export.produce', { exportId }, { ...options, dedupeKey: String(exportId), maxAttempts: MAX_ATTEMPTS });
}

/** Shortly after the next 00:00 UTC, at a random minute (as PostHog's beat), unless a purge is already queued. */
async function schedulePurge(queue: ExportJobQueue, delayMs?: number): Promise<void> {
  const midnight = new Date(Math.ceil(Date.now() / DAY_MS) * DAY_MS);
  const runAt = delayMs === undefined ? new Date(midnight.getTime() + Math.floor(Math.random() * 60) * 60_000) : new Date(Date.now() + delayMs);
  await queue.enqueue('exports.purge', {}, { dedupeKey: PURGE_DEDUPE_KEY, runAt });
}

export interface ExportJobsDeps extends HeatmapProducerDeps {
  exports: Pick<ExportsRepository, 'findById' | 'setContent' | 'setException' | 'expired' | 'deleteByIds' | 'eventsPage' | 'teamTimeZone' | 'findTeam' | 'setInactivityPeriods'>;
  blobs: Pick<BlobStore, 'putFile' | 'delete'>;
  queue: ExportJobQueue;
  api: Pick<InternalApi, 'get' | 'fetch'>;
  signingKey: () => Promise<string>;
  /** The warm browser, which renders recordings (image/png of a session_recording_id, and videos). */
  browser: Pick<BrowserPool, 'withPage'>;
  /** FFMPEG_PATH; unset, `ffmpeg` on PATH (recording videos and GIFs). */
  ffmpegPath: string | undefined;
}


const tabularKind = (format: ExportFormat): 'csv' | 'xlsx' | 'json' | 'pdf' =>
  format === XLSX ? 'xlsx' : format === 'text/csv' ? 'csv' : format === PDF ? 'pdf' : 'json';

/** A one-page PDF of the image file `produce` writes in dir. */
const asPdf = (produce: (dir: string) => Promise<string>) => async (dir: string) => {
  const file = path.join(dir, 'out.pdf');
  await imageToPdf(await produce(dir), file);
  return file;
};

/**
 * Produces one export's file and stores it in the blob store. Idempotent: an export that already has content is left
 * alone, and a run that loses the race to record its file deletes its own blob. A run cut off (lost lease, crash)
 * is run again by the queue from the start.
 */
export function createProduceHandler(deps: ExportJobsDeps): JobHandler<{ exportId: number }> {
  return async ({ job, payload, signal, log }) => {
    const row = await deps.exports.findById(payload.exportId);
    if (!row || row.contentKey !== null) return;
    const exportLog = log.child({ exportId: row.id });
    let storing = false;
    try {
      const format = row.exportFormat;
      const context = fieldsOf(row.exportContext);
      const pdf = format === PDF;
      // A heatmap is an image/png, or an application/pdf of that image; so is a recording's frame. Any other PDF is a
      // table of rows.
      const heatmap = (format === 'image/png' || pdf) && typeof context.heatmap_url === 'string' && context.heatmap_url !== '';
      const recordingId = typeof context.session_recording_id === 'string' && context.session_recording_id !== '' ? context.session_recording_id : undefined;
      const frame = !heatmap && recordingId !== undefined && (format === 'image/png' || pdf);
      const video = recordingId !== undefined && VIDEO_FORMATS.includes(format);
      if (!isExportFormat(format) || !(TABULAR_FORMATS.includes(format) || pdf || heatmap || frame || video)) throw new ExportError(`Export to format ${format} is not supported yet`);
      const key = `exports/${EXPORT_FORMATS[format]}/team-${row.teamId}/task-${row.id}/${newUuid()}`;
      /** The internal credential of the export's creator, fresh for each call. */
      const creatorToken = () => {
        if (row.createdById === null) throw new ExportError('The user who created this export no longer exists');
        const userId = row.createdById;
        return async () => encodeJwt(await deps.signingKey(), { user_id: userId }, INTERNAL_TOKEN_TTL_SECONDS, JwtAudience.exportInternal);
      };
      let produce: (dir: string) => Promise<string>;
      if (recordingId !== undefined && (frame || video)) {
        const target: RecordingTarget = { teamId: row.teamId, recordingId, token: creatorToken(), signal };
        if (frame) {
          const png = (dir: string) => produceRecordingPng(deps, target, context, dir);
          produce = pdf ? asPdf(png) : png;
        } else {
          produce = async (dir) => {
            const made = await produceRecordingVideo(deps, target, context, format as VideoFormat, dir);
            await deps.exports.setInactivityPeriods(row.id, made.inactivityPeriods);
            return made.file;
          };
        }
      } else if (heatmap) {
        const team = await deps.exports.findTeam(row.teamId);
        if (!team) throw new ExportError('The project of this export no longer exists');
        const png = (dir: string) => produceHeatmapPng(deps, team, context, dir, { signal, log: exportLog });
        produce = pdf ? asPdf(png) : png;
      } else {
        const token = creatorToken();
        let rows: AsyncIterable<Row>;
        if (context.source !== undefined && context.source !== null) {
          const source = fieldsOf(context.source);
          if (source.kind === 'EventsQuery') rows = eventsQueryRows(deps.exports, row.teamId, await deps.exports.teamTimeZone(row.teamId), source, signal);
          else if (source.kind === 'RecordingsQuery') rows = recordingsQueryRows(deps.api, row.teamId, source, token, signal);
          else throw new ExportError(`export_context.source of kind ${String(source.kind)} is not supported`);
        } else if (typeof context.path === 'string' && context.path !== '') {
          rows = pathRows(deps.api, context.path, token, signal);
        } else {
          throw new ExportError(`Export is missing export_context.path or export_context.source${pdf ? ' (or heatmap_url, for a heatmap)' : ''}`);
        }
        const columns = Array.isArray(context.columns) ? context.columns.filter((c): c is string => typeof c === 'string') : undefined;
        const kind = tabularKind(format);
        produce = (dir) => produceTabularFile(rows, { format: kind, columns }, signal, dir);
      }
      await withTempDir(async (dir) => {
        const file = await produce(dir);
        storing = true;
        await deps.blobs.putFile(key, file);
      });
      if (!(await deps.exports.setContent(row.id, key))) await deps.blobs.delete([key]);
      exportLog.info({ key }, 'export produced');
    } catch (error) {
      if (signal.aborted) throw error;
      // A store that does not answer, or a render that timed out, may work later: retried with backoff, recorded on the
      // last attempt. What the producer refuses (a bad path, an unsupported query, a URL the guard refuses) is
      // recorded at once.
      if ((storing || error instanceof TransientExportError) && job.attempts < job.maxAttempts) throw error;
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 4000);
      exportLog.warn({ err: error }, 'export failed');
      await deps.exports.setException(row.id, message, error instanceof ExportError ? 'ExportError' : error instanceof Error ? error.name : 'Error');
    }
  };
}

/** Deletes expired exports and their files in bounded batches; answers how many. */
export async function purgeExpiredExports(deps: Pick<ExportJobsDeps, 'exports' | 'blobs'>, batches = PURGE_BATCHES_PER_RUN): Promise<{ deleted: number; more: boolean }> {
  let deleted = 0;
  for (let i = 0; i < batches; i += 1) {
    const expired = await deps.exports.expired(PURGE_BATCH);
    if (expired.length === 0) return { deleted, more: false };
    // Files first: a crash between the two leaves rows whose next purge deletes them (missing keys are no error).
    await deps.blobs.delete(expired.flatMap((e) => (e.contentKey ? [e.contentKey] : [])));
    await deps.exports.deleteByIds(expired.map((e) => e.id));
    deleted += expired.length;
    if (expired.length < PURGE_BATCH) return { deleted, more: false };
  }
  return { deleted, more: true };
}

export function createExportJobs(deps: ExportJobsDeps): AreaJobs<typeof exportJobDefinitions> {
  return {
    definitions: exportJobDefinitions,
    handlers: {
      'export.produce': createProduceHandler(deps),
      'exports.purge': async ({ log }) => {
        let more = false;
        try {
          const result = await purgeExpiredExports(deps);
          more = result.more;
          log.info(result, 'purged expired exports');
        } finally {
          // The next run: at once when this one left more, else after midnight; also when this one failed.
          await schedulePurge(deps.queue, more ? 0 : undefined);
        }
      },
    },
    schedule: () => schedulePurge(deps.queue),
  };
}
