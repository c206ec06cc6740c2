import { PlainBodyError } from '../../lib/errors.js';

/** A request the tree refuses with PostHog's hand-built 400 body {"detail": ...} (not the validation error body). */
export class TreeRequestError extends PlainBodyError {
  constructor(detail: string) {
    super('validation', { detail });
  }
}
