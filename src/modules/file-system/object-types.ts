import type { Db } from '../../db/client.js';

/** An object of this server as the tree shows it. */
export interface TreeObject {
  ref: string;
  name: string;
  href: string;
  createdAt: string;
  createdById: number | null;
}

/**
 * A kind of object this server owns and the tree can reach (PostHog's deletion registry and unfiled model map):
 * deleting its last tree row soft-deletes it, undo_delete restores it, unfiled/ files the ones without a row.
 */
export interface TreeObjectType {
  type: string;
  /** Where new rows go, e.g. "Unfiled/Heatmaps". */
  baseFolder: string;
  /** Soft-deletes the object; "gone" when no such object exists any more. */
  softDelete(tx: Db, teamId: number, ref: string): Promise<'deleted' | 'gone'>;
  /** Restores a soft-deleted object; false when there is none to restore. */
  restore(tx: Db, teamId: number, ref: string): Promise<TreeObject | null>;
  /** What a client sends to undo a delete without the tree. */
  undoHint(ref: string): string;
  /** The team's live objects, to file the ones that have no row. */
  live(teamId: number, tx: Db): Promise<TreeObject[]>;
}
