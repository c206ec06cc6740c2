import { PlainBodyError } from '../../lib/errors.js';
import type { SavedHeatmap } from './contract.js';

/** PostHog's hand-built answers of the heatmap views, outside its exception handler. */

export class InvalidOrderError extends PlainBodyError {
  constructor(order: string) {
    super('validation', { error: `Invalid order field: ${order}` });
  }
}

export class InvalidWidthError extends PlainBodyError {
  constructor() {
    super('validation', { error: 'Invalid width parameter, must be an integer' });
  }
}

export class NotScreenshotError extends PlainBodyError {
  constructor() {
    super('validation', { error: 'Only screenshot heatmaps can be regenerated' });
  }
}

/** The content of a deleted heatmap: a 404 with an empty body. */
export class DeletedHeatmapError extends PlainBodyError {
  constructor() {
    super('not_found', null);
  }
}

/** A width stored at a content location (object storage), which PostHog does not serve yet either. */
export class ContentLocationError extends PlainBodyError {
  constructor(heatmap: SavedHeatmap) {
    super('not_implemented', { ...heatmap, error: 'Content location not implemented yet' });
  }
}
