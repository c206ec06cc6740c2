import { randomInt } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { isUuid, newUuid } from '../../lib/ids.js';
import { JsonText } from '../../lib/json-text.js';
import { isoZ } from '../../lib/time.js';
import {
  type CreateSavedHeatmapInput,
  DEFAULT_TARGET_WIDTHS,
  type SavedHeatmap,
  type SavedHeatmapListInput,
  type UpdateSavedHeatmapInput,
} from './contract.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { FileSystemModule } from '../file-system/index.js';
import { type Actor, type TeamAccess, toUserBasic } from '../identity/index.js';
import { ContentLocationError, DeletedHeatmapError, InvalidOrderError, InvalidWidthError, NotScreenshotError } from './errors.js';
import { enqueueHeatmapRender, type HeatmapJobQueue } from './jobs.js';
import { type HeatmapsRepository, type HeatmapWithCreator, isHeatmapOrder, type SnapshotSummary } from './repository.js';
import { STALE_PROCESSING_MS } from './rules.js';
import { HEATMAP_TREE_TYPE, HEATMAPS_FOLDER, heatmapTreeObject } from './tree.js';

const DEFAULT_CONTENT_WIDTH = 1024;
const SHORT_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Characters PostHog refuses in the page URL, which must be one concrete page. */
const URL_PATTERN_CHARS = /[*+?^${}()|[\]\\]/;

export interface HeatmapsServiceDeps {
  db: Pick<Db, 'transaction'>;
  heatmaps: HeatmapsRepository;
  queue: HeatmapJobQueue;
  guard: UrlGuard;
  tree: Pick<FileSystemModule['tree'], 'syncObject'>;
}

export type ContentResult = { kind: 'image'; heatmapId: string; width: number; jpeg: Buffer } | { kind: 'pending'; heatmap: SavedHeatmap };

const generateShortId = (): string => Array.from({ length: 8 }, () => SHORT_ID_ALPHABET[randomInt(SHORT_ID_ALPHABET.length)]).join('');

function toSavedHeatmap(row: HeatmapWithCreator, snapshots: SnapshotSummary[]): SavedHeatmap {
  const own = snapshots.filter((s) => s.heatmapId === row.id);
  return {
    id: row.id,
    short_id: row.shortId,
    name: row.name,
    url: row.url,
    data_url: row.dataUrl,
    target_widths: row.targetWidths,
    type: row.type,
    status: row.status,
    has_content: own.some((s) => s.hasContent || s.hasLocation),
    snapshots: own.map((s) => ({ width: s.width, has_content: s.hasContent || s.hasLocation })),
    deleted: row.deleted,
    block_consent_modals: row.blockConsentModals,
    created_by: row.createdBy && toUserBasic(row.createdBy),
    created_at: isoZ(row.createdAt),
    updated_at: isoZ(row.updatedAt),
    exception: row.exception,
  };
}

/** Python's int() for the content width: surrounding whitespace and a sign pass, nothing else. */
function parseWidth(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONTENT_WIDTH;
  if (!/^\s*[-+]?\d+\s*$/.test(value)) throw new InvalidWidthError();
  return Number.parseInt(value, 10);
}

/** The stored width closest to the requested one; ties go to the smaller width. */
export function nearestWidth(stored: number[], requested: number): number | undefined {
  let best: number | undefined;
  for (const width of stored) {
    if (best === undefined || Math.abs(width - requested) < Math.abs(best - requested)) best = width;
    else if (Math.abs(width - requested) === Math.abs(best - requested) && width < best) best = width;
  }
  return best;
}

/** Saved heatmaps and their screenshots, as PostHog's SavedHeatmapViewSet and HeatmapScreenshotViewSet (v2). */
export function createHeatmapsService({ db, heatmaps, queue, guard, tree }: HeatmapsServiceDeps) {
  /** Keeps the heatmap's project tree rows in step with it, in the same transaction as the write. */
  async function syncTree(team: TeamAccess, id: string, tx: Db, folder?: string): Promise<void> {
    const row = await heatmaps.findForRender(team.team.id, id, tx);
    if (!row) return;
    const scope = { teamId: team.team.id, projectId: team.team.projectId };
    await tree.syncObject(tx, scope, { type: HEATMAP_TREE_TYPE, baseFolder: HEATMAPS_FOLDER }, { ...heatmapTreeObject(row), deleted: row.deleted }, folder);
  }

  async function serialize(row: HeatmapWithCreator): Promise<SavedHeatmap> {
    return toSavedHeatmap(row, await heatmaps.snapshotSummaries([row.id]));
  }

  async function find(team: TeamAccess, shortId: string): Promise<HeatmapWithCreator> {
    const row = await heatmaps.findByShortId(team.team.id, shortId);
    if (!row) throw new NotFoundError();
    return row;
  }

  /** The stored JPEG closest to the requested width; the heatmap itself while none is stored. */
  async function screenshotOf(row: HeatmapWithCreator, rawWidth: string | undefined): Promise<ContentResult> {
    const requested = parseWidth(rawWidth);
    const snapshots = await heatmaps.snapshotSummaries([row.id]);
    const width = snapshots.some((s) => s.width === requested) ? requested : nearestWidth(snapshots.map((s) => s.width), requested);
    const chosen = snapshots.find((s) => s.width === width);
    if (chosen && !chosen.hasContent && chosen.hasLocation) {
      throw new ContentLocationError(toSavedHeatmap(row, snapshots));
    }
    const jpeg = chosen?.hasContent ? await heatmaps.snapshotContent(row.id, chosen.width) : null;
    if (!jpeg || width === undefined) return { kind: 'pending', heatmap: toSavedHeatmap(row, snapshots) };
    return { kind: 'image', heatmapId: row.id, width, jpeg };
  }

  async function reload(team: TeamAccess, id: string): Promise<SavedHeatmap> {
    const row = await heatmaps.findById(team.team.id, id);
    if (!row) throw new NotFoundError();
    return serialize(row);
  }

  /**
   * PostHog's validate_url: one concrete page (no pattern characters) that the SSRF guard lets through. A name that
   * does not resolve here is not a refusal (PostHog lets DNS failures through: an offline or intranet install may
   * save a heatmap of a public site); a render then fails, readably, while it still does not resolve.
   */
  async function validatePageUrl(url: string): Promise<void> {
    if (URL_PATTERN_CHARS.test(url)) throw new ValidationError('Wildcards are not allowed in the page URL.', 'url');
    const verdict = await guard.check(url);
    if (!verdict.allowed && !verdict.unresolved) throw new ValidationError(verdict.reason || 'URL not allowed', 'url');
  }

  const enqueueRender = (team: TeamAccess, id: string, tx: Db, requestId?: string) =>
    enqueueHeatmapRender(queue, { heatmapId: id, teamId: team.team.id }, { tx, requestId });

  /** PostHog's _regenerate: status processing, exception cleared, snapshots deleted, a render enqueued; one transaction. */
  const regenerate = (team: TeamAccess, id: string, requestId?: string) =>
    db.transaction(async (tx) => {
      await heatmaps.resetForRender(team.team.id, id, tx);
      await enqueueRender(team, id, tx, requestId);
    });

  return {
    async list(team: TeamAccess, query: SavedHeatmapListInput): Promise<{ results: JsonText<SavedHeatmap[]>; count: number }> {
      const limit = Math.max(1, Math.min(query.limit ?? 100, 500));
      const offset = Math.max(0, query.offset ?? 0);
      const order = query.order || '-updated_at';
      if (!isHeatmapOrder(order)) throw new InvalidOrderError(order);
      const { results, count } = await heatmaps.list(
        team.team.id,
        {
          type: query.type || undefined,
          status: query.status || undefined,
          search: query.search || undefined,
          createdById: query.created_by || undefined,
        },
        order,
        { limit, offset },
      );
      return { results: new JsonText(results), count };
    },

    async create(team: TeamAccess, actor: Actor, input: CreateSavedHeatmapInput, requestId?: string): Promise<SavedHeatmap> {
      await validatePageUrl(input.url);
      const type = input.type ?? 'screenshot';
      const id = newUuid();
      await db.transaction(async (tx) => {
        let shortId = generateShortId();
        while (await heatmaps.shortIdTaken(team.team.id, shortId, tx)) shortId = generateShortId();
        await heatmaps.insert(
          {
            id,
            teamId: team.team.id,
            shortId,
            name: input.name ?? null,
            url: input.url,
            dataUrl: input.data_url || input.url,
            targetWidths: input.widths ?? DEFAULT_TARGET_WIDTHS,
            type,
            status: type === 'screenshot' ? 'processing' : 'completed',
            blockConsentModals: input.block_consent_modals ?? false,
            createdById: actor.user.id,
          },
          tx,
        );
        await syncTree(team, id, tx, input._create_in_folder || undefined);
        if (type === 'screenshot') await enqueueRender(team, id, tx, requestId);
      });
      return reload(team, id);
    },

    /** Deleted heatmaps are still found; a screenshot stuck in processing is rendered again. */
    async retrieve(team: TeamAccess, shortId: string, requestId?: string): Promise<SavedHeatmap> {
      const row = await find(team, shortId);
      const stale = Date.now() - Date.parse(isoZ(row.updatedAt)) > STALE_PROCESSING_MS;
      if (row.type === 'screenshot' && row.status === 'processing' && stale) {
        await regenerate(team, row.id, requestId);
        return reload(team, row.id);
      }
      return serialize(row);
    },

    /**
     * Partial update; a new url or consent setting on a screenshot renders it again. Unlike PostHog, which
     * validates `widths` on PATCH and then drops it, the widths are saved (the next render uses them).
     */
    async update(team: TeamAccess, shortId: string, input: UpdateSavedHeatmapInput, requestId?: string): Promise<SavedHeatmap> {
      const row = await find(team, shortId);
      if (input.url !== undefined) await validatePageUrl(input.url);
      const patch = {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.url !== undefined && { url: input.url }),
        ...(input.data_url !== undefined && { dataUrl: input.data_url }),
        ...(input.widths !== undefined && { targetWidths: input.widths }),
        ...(input.type !== undefined && { type: input.type }),
        ...(input.deleted !== undefined && { deleted: input.deleted }),
        ...(input.block_consent_modals !== undefined && { blockConsentModals: input.block_consent_modals }),
      };
      const type = input.type ?? row.type;
      const rerender =
        type === 'screenshot' &&
        ((input.url !== undefined && input.url !== row.url) ||
          (input.block_consent_modals !== undefined && input.block_consent_modals !== row.blockConsentModals));
      await db.transaction(async (tx) => {
        await heatmaps.update(team.team.id, row.id, patch, tx);
        await syncTree(team, row.id, tx);
        if (rerender) {
          await heatmaps.resetForRender(team.team.id, row.id, tx);
          await enqueueRender(team, row.id, tx, requestId);
        }
      });
      return reload(team, row.id);
    },

    async regenerate(team: TeamAccess, shortId: string, requestId?: string): Promise<SavedHeatmap> {
      const row = await find(team, shortId);
      if (row.type !== 'screenshot') throw new NotScreenshotError();
      await regenerate(team, row.id, requestId);
      return reload(team, row.id);
    },

    /** The JPEG closest to the requested width, or the heatmap itself while nothing is stored (202). */
    async content(team: TeamAccess, id: string, rawWidth: string | undefined): Promise<ContentResult> {
      const row = isUuid(id) ? await heatmaps.findById(team.team.id, id) : undefined;
      if (!row) throw new NotFoundError();
      if (row.deleted) throw new DeletedHeatmapError();
      return screenshotOf(row, rawWidth);
    },

    /** A saved heatmap's screenshot closest to the requested width, with the URL (or pattern) whose data it shows. */
    async screenshot(team: TeamAccess, shortId: string, rawWidth: string | undefined): Promise<{ content: ContentResult; dataUrl: string }> {
      const row = await find(team, shortId);
      return { content: await screenshotOf(row, rawWidth), dataUrl: row.dataUrl ?? row.url };
    },

    /**
     * The screenshot closest to the requested width of the team's most recent completed saved heatmap of this page URL,
     * with the URL (or pattern) whose data it shows; null when the team has none with a stored screenshot.
     */
    async screenshotOfPage(teamId: number, url: string, rawWidth: string | undefined): Promise<{ content: ContentResult; dataUrl: string; shortId: string } | null> {
      const row = await heatmaps.latestWithScreenshot(teamId, url);
      if (!row) return null;
      return { content: await screenshotOf(row, rawWidth), dataUrl: row.dataUrl ?? row.url, shortId: row.shortId };
    },
  };
}

export type HeatmapsService = ReturnType<typeof createHeatmapsService>;
