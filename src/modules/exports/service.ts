import { serialId } from '../../lib/ids.js';
import type { Db } from '../../db/client.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { decodeJwt, encodeJwt, JwtAudience } from '../../lib/jwt.js';
import { epochMs, fromDate, isoZ } from '../../lib/time.js';
import type { PageParams } from '../../lib/wire.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { BlobStore } from '../../storage/index.js';
import type { Actor, TeamAccess } from '../identity/index.js';
import {
  type CreateExportInput,
  type ExportedAsset,
  type ExportFormat,
  type ExportListInput,
  isExportFormat,
  PDF,
  SUPPORTED_SOURCE_KINDS,
  TABULAR_FORMATS,
  VIDEO_FORMATS,
} from './contract.js';
import { ExportFailedError, ExportNotReadyError } from './errors.js';
import { enqueueExport, type ExportJobQueue } from './jobs.js';
import type { ExportedAssetRow, ExportsRepository } from './repository.js';
import { expiresAfter, exportFilename, fieldsOf, isStuck, STUCK_MESSAGE, truthy } from './rules.js';

/** PostHog's free-tier monthly quota of full video exports (Burrow has no plans). */
export const VIDEO_EXPORTS_PER_MONTH = 10;
/** A public link's life (get_public_content_url). */
export const PUBLIC_TOKEN_TTL_SECONDS = 365 * 24 * 60 * 60;
const POLL_MS = 100;

export interface ExportsServiceDeps {
  db: Pick<Db, 'transaction'>;
  exports: ExportsRepository;
  queue: ExportJobQueue;
  blobs: Pick<BlobStore, 'get' | 'presignGet'>;
  guard: Pick<UrlGuard, 'check'>;
  signingKey: () => Promise<string>;
  /** How long create waits for the file before answering without it. */
  createWaitMs: number;
}

export type ContentResult = { kind: 'file'; body: Buffer; contentType: string; filename: string } | { kind: 'redirect'; url: string };

/** How long a presigned object-storage URL of an export's file is valid. */
const PRESIGNED_URL_SECONDS = 3600;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function toExportedAsset(row: ExportedAssetRow, now = Date.now()): ExportedAsset {
  const format = row.exportFormat as ExportFormat;
  const createdAt = new Date(epochMs(row.createdAt));
  const hasContent = row.contentKey !== null;
  return {
    id: row.id,
    dashboard: row.dashboardId,
    insight: row.insightId,
    export_format: format,
    created_at: isoZ(row.createdAt),
    has_content: hasContent,
    export_context: row.exportContext ?? null,
    filename: exportFilename(format, row.exportContext, createdAt),
    expires_after: isoZ(row.expiresAfter),
    exception: isStuck(createdAt, hasContent, row.exception, now) ? STUCK_MESSAGE : row.exception,
    user_access_level: 'manager',
  };
}

/** Exports (PostHog's ExportedAssetViewSet): list, create, retrieve and content; only the creator sees an export. */
export function createExportsService(deps: ExportsServiceDeps) {
  const { exports } = deps;

  async function findOwn(team: TeamAccess, actor: Actor, rawId: string): Promise<ExportedAssetRow> {
    const id = serialId(rawId);
    const row = id === null ? undefined : await exports.findOwn(team.team.id, actor.user.id, id);
    if (!row) throw new NotFoundError();
    return row;
  }

  /** validate() of §2.4, after the field checks the body schema made. */
  async function validate(team: TeamAccess, input: CreateExportInput): Promise<void> {
    const context = input.export_context;
    if (!truthy(input.dashboard) && !truthy(input.insight) && !truthy(context)) {
      throw new ValidationError('Either dashboard, insight or export_context is required for an export.');
    }
    const ctx = fieldsOf(context);
    if (VIDEO_FORMATS.includes(input.export_format) && truthy(ctx.session_recording_id)) {
      const now = new Date();
      const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const used = await exports.countRecordingExportsSince(team.team.id, VIDEO_FORMATS, since);
      if (used >= VIDEO_EXPORTS_PER_MONTH) {
        throw new ValidationError(
          `Your team has reached the limit of ${VIDEO_EXPORTS_PER_MONTH} full video exports this month.`,
          'export_limit_exceeded',
        );
      }
    }
    if (truthy(ctx.heatmap_url)) {
      const url = String(ctx.heatmap_url);
      const verdict = await deps.guard.check(url);
      if (!verdict.allowed) throw new ValidationError(`heatmap_url not allowed: ${verdict.reason}`, 'export_context');
    }
    if (VIDEO_FORMATS.includes(input.export_format) && !truthy(ctx.session_recording_id)) {
      throw new ValidationError('Video export supports session recordings only.', 'export_format');
    }
    if ((TABULAR_FORMATS.includes(input.export_format) || input.export_format === PDF) && ctx.source !== undefined && ctx.source !== null) {
      const kind = fieldsOf(ctx.source).kind;
      if (typeof kind !== 'string' || !(SUPPORTED_SOURCE_KINDS as readonly string[]).includes(kind)) {
        throw new ValidationError(
          `export_context.source of kind ${typeof kind === 'string' ? kind : 'unknown'} is not supported: Burrow exports ${SUPPORTED_SOURCE_KINDS.join(' and ')}.`,
          'export_context',
        );
      }
    }
  }

  /** Polls the export until it has content or an exception, for at most the configured wait. */
  async function settle(row: ExportedAssetRow): Promise<ExportedAssetRow> {
    const deadline = Date.now() + deps.createWaitMs;
    let current = row;
    while (current.contentKey === null && current.exception === null && Date.now() < deadline) {
      await sleep(POLL_MS);
      current = (await exports.findById(row.id)) ?? current;
    }
    return current;
  }

  /** §2.8: a redirect to object storage when the file is there, else its bytes, else why there are none. */
  async function contentOf(row: ExportedAssetRow, download: boolean): Promise<ContentResult> {
    const format = row.exportFormat;
    const filename = exportFilename(isExportFormat(format) ? format : 'text/csv', row.exportContext, new Date(epochMs(row.createdAt)));
    if (row.contentKey !== null) {
      const url = await deps.blobs.presignGet(row.contentKey, {
        expiresSeconds: PRESIGNED_URL_SECONDS,
        contentType: format,
        ...(download && { contentDisposition: `attachment; filename="${filename}"` }),
      });
      if (url) return { kind: 'redirect', url };
      const body = await deps.blobs.get(row.contentKey);
      if (body) return { kind: 'file', body, contentType: format, filename };
    }
    const exception = toExportedAsset(row).exception;
    if (exception !== null) throw new ExportFailedError(exception);
    throw new ExportNotReadyError();
  }

  return {
    async list(team: TeamAccess, actor: Actor, query: ExportListInput, page: PageParams): Promise<{ results: ExportedAsset[]; count: number }> {
      const { rows, count } = await exports.list(
        team.team.id,
        actor.user.id,
        {
          exportFormat: query.export_format && isExportFormat(query.export_format) ? query.export_format : undefined,
          contextPath: query.context_path || undefined,
          sessionRecordingId: query.session_recording_id || undefined,
        },
        page,
      );
      const now = Date.now();
      return { results: rows.map((row) => toExportedAsset(row, now)), count };
    },

    /** Inserts the export and queues its job in one transaction, then waits a bounded time for the file. */
    async create(team: TeamAccess, actor: Actor, input: CreateExportInput, requestId?: string): Promise<ExportedAsset> {
      await validate(team, input);
      const row = await deps.db.transaction(async (tx) => {
        const inserted = await exports.insert(
          {
            teamId: team.team.id,
            // Validation refuses every id (Burrow has no dashboards or insights), so both are always empty.
            dashboardId: null,
            insightId: null,
            exportFormat: input.export_format,
            createdById: actor.user.id,
            exportContext: input.export_context ?? null,
            expiresAfter: fromDate(expiresAfter(input.export_format)),
          },
          tx,
        );
        await enqueueExport(deps.queue, inserted.id, { tx, requestId });
        return inserted;
      });
      return toExportedAsset(VIDEO_FORMATS.includes(row.exportFormat) ? row : await settle(row));
    },

    async retrieve(team: TeamAccess, actor: Actor, id: string): Promise<ExportedAsset> {
      return toExportedAsset(await findOwn(team, actor, id));
    },

    /** The file, or 425 while it is produced, or 400 with the exception. */
    async content(team: TeamAccess, actor: Actor, id: string, download: boolean): Promise<ContentResult> {
      return contentOf(await findOwn(team, actor, id), download);
    },

    /**
     * An export a subscription delivery makes (PostHog's subscription assets: no creator), queued in the delivery's
     * name; answers its id. The caller checks it later with `subscriptionAsset`.
     */
    async createForSubscription(teamId: number, exportFormat: ExportFormat, exportContext: Record<string, unknown>): Promise<number> {
      return deps.db.transaction(async (tx) => {
        const inserted = await exports.insert(
          { teamId, dashboardId: null, insightId: null, exportFormat, createdById: null, exportContext, expiresAfter: fromDate(expiresAfter(exportFormat)) },
          tx,
        );
        await enqueueExport(deps.queue, inserted.id, { tx });
        return inserted.id;
      });
    },

    /** A subscription's export: pending, failed (its exception), or ready with its public /exporter/ path. */
    async subscriptionAsset(exportId: number): Promise<{ state: 'pending' } | { state: 'failed'; exception: string } | { state: 'ready'; path: string; filename: string }> {
      const row = await exports.findById(exportId);
      if (!row) return { state: 'failed', exception: 'The export no longer exists' };
      const asset = toExportedAsset(row);
      if (row.contentKey !== null) {
        const token = encodeJwt(await deps.signingKey(), { id: exportId }, PUBLIC_TOKEN_TTL_SECONDS, JwtAudience.exportedAsset);
        return { state: 'ready', path: `/exporter/${encodeURIComponent(asset.filename)}?token=${token}`, filename: asset.filename };
      }
      return asset.exception !== null ? { state: 'failed', exception: asset.exception } : { state: 'pending' };
    },

    /** The file of a subscription's ready export (an email's inline image); null when it has none. */
    async assetBytes(exportId: number): Promise<Buffer | null> {
      const row = await exports.findById(exportId);
      return row?.contentKey ? ((await deps.blobs.get(row.contentKey)) ?? null) : null;
    },

    /** A public link's token (365 days, audience exported_asset), for subscriptions and the render page. */
    async publicToken(exportId: number): Promise<string> {
      return encodeJwt(await deps.signingKey(), { id: exportId }, PUBLIC_TOKEN_TTL_SECONDS, JwtAudience.exportedAsset);
    },

    /** /exporter/<filename>?token=: the file of a valid token's export; null (a bare 404) for anything else. */
    async publicContent(token: string | undefined): Promise<ContentResult | null> {
      if (!token) return null;
      const payload = decodeJwt(await deps.signingKey(), token, JwtAudience.exportedAsset);
      if (!payload || typeof payload.id !== 'number') return null;
      const row = await exports.findById(payload.id);
      if (!row || row.contentKey === null) return null;
      return contentOf(row, false);
    },
  };
}

export type ExportsService = ReturnType<typeof createExportsService>;
