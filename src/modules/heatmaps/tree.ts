import type { TreeObject, TreeObjectType } from '../file-system/index.js';
import type { HeatmapsRepository, SavedHeatmapRow } from './repository.js';

export const HEATMAP_TREE_TYPE = 'heatmap';
export const HEATMAPS_FOLDER = 'Unfiled/Heatmaps';

/** How a saved heatmap appears in the project tree: named after itself, or its url when it has no name. */
export function heatmapTreeObject(row: Pick<SavedHeatmapRow, 'shortId' | 'name' | 'url' | 'createdAt' | 'createdById'>): TreeObject {
  return {
    ref: row.shortId,
    name: row.name || row.url,
    href: `/heatmaps/${row.shortId}`,
    createdAt: row.createdAt,
    createdById: row.createdById,
  };
}

/** Saved heatmaps as objects the tree can reach: deleting their last row soft-deletes them, undo restores them. */
export function createHeatmapTreeType(heatmaps: Pick<HeatmapsRepository, 'softDeleteByShortId' | 'restoreByShortId' | 'live'>): TreeObjectType {
  return {
    type: HEATMAP_TREE_TYPE,
    baseFolder: HEATMAPS_FOLDER,
    softDelete: (tx, teamId, ref) => heatmaps.softDeleteByShortId(teamId, ref, tx),
    restore: async (tx, teamId, ref) => {
      const row = await heatmaps.restoreByShortId(teamId, ref, tx);
      return row ? heatmapTreeObject(row) : null;
    },
    undoHint: (ref) => `Send PATCH /api/projects/@current/saved/${ref} with deleted=false.`,
    live: async (teamId, tx) => (await heatmaps.live(teamId, tx)).map(heatmapTreeObject),
  };
}
