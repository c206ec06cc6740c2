import { BurrowError, PlainBodyError } from '../../lib/errors.js';

export const NOT_READY_MESSAGE = 'This export is still being generated. Please try again shortly.';

/** 425 Too Early: the file is still being produced (a custom APIException: type server_error). */
export class ExportNotReadyError extends BurrowError {
  constructor() {
    super('too_early', 'export_not_ready', NOT_READY_MESSAGE);
  }
}

/** 400 with PostHog's custom APIException body (type server_error): the export failed, or is stuck. */
export class ExportFailedError extends PlainBodyError {
  constructor(detail: string) {
    super('validation', { type: 'server_error', code: 'export_failed', detail, attr: null });
  }
}

/** A failure a producer records as the export's exception (PostHog's str(e), with the class name ExportError). */
export class ExportError extends Error {}

/** A failure that may pass (a render that timed out, a browser that crashed): retried before it is recorded. */
export class TransientExportError extends ExportError {}
