import { EXPORT_FORMATS, type ExportFormat } from './contract.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** HOGQL_INCREASED_MAX_EXECUTION_TIME (600 s) + 30 s: an export with neither content nor exception past this is stuck. */
export const STUCK_AFTER_MS = 630_000;
export const STUCK_MESSAGE =
  'Export failed without throwing an exception. Please try to rerun this export and contact support if it fails to complete multiple times.';
/** PostHog's caps of an exported image (spec §3.1), in CSS pixels: heatmaps and recording frames alike. */
export const MAX_IMAGE_SIZE = { width: 4000, height: 5000 } as const;
/** PostHog's CSV_EXPORT_LIMIT. */
export const ROW_LIMIT = 300_000;
/**
 * Rows of an application/pdf table (a Burrow extension): 250 pages of 40 rows. A PDF is for reading, not for
 * processing; a bigger table is cut here with the same kind of note row as the CSV's, and is better exported as CSV.
 */
export const PDF_ROW_LIMIT = 10_000;

/** Days an export lives, per format (ExportedAsset.get_expiry_delta). */
export function expiryDays(format: string): number {
  if (format === 'text/csv' || format === 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') return 7;
  if (format === 'video/mp4' || format === 'video/webm' || format === 'image/gif') return 365;
  return 180;
}

/** now + the format's delta, truncated to 00:00:00 UTC of that day. */
export function expiresAfter(format: string, now = new Date()): Date {
  const at = new Date(now.getTime() + expiryDays(format) * DAY_MS);
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/**
 * Django's slugify (allow_unicode=False): NFKD to ASCII, drop what is not a word character, space or hyphen,
 * lowercase, collapse runs of hyphens and whitespace into one hyphen, strip leading and trailing hyphens and underscores.
 */
export function slugify(value: string): string {
  const ascii = value.normalize('NFKD').replace(/[^\x00-\x7F]/g, '');
  const kept = ascii.replace(/[^\w\s-]/g, '').toLowerCase();
  return kept.replace(/[-\s]+/g, '-').replace(/^[-_]+|[-_]+$/g, '');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Whether a JSON value is an object (not null, not an array). */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A JSON object's fields; none for anything else, as export_context and its parts are read. */
export const fieldsOf = (value: unknown): Record<string, unknown> => (isJsonObject(value) ? value : {});

/** Python's str() of a JSON value: export_context.filename given as a number or a boolean, a CSV cell. */
export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null) return 'None';
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** §1.6: the base, the creation time (UTC) and the extension. Burrow has no dashboards or insights to name it after. */
export function exportFilename(format: ExportFormat, exportContext: unknown, createdAt: Date): string {
  const given = fieldsOf(exportContext).filename;
  const base = given !== undefined && given !== null && given !== '' ? slugify(pythonStr(given)) : 'export';
  const d = createdAt;
  const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${base}-${stamp}.${EXPORT_FORMATS[format]}`;
}

/** Whether an export without content or exception was created long enough ago to count as failed (§2.2). */
export const isStuck = (createdAt: Date, hasContent: boolean, exception: string | null, now = Date.now()): boolean =>
  !hasContent && exception === null && createdAt.getTime() < now - STUCK_AFTER_MS;

/** Python truthiness of a JSON value, as PostHog's validate() tests the fields. */
export const truthy = (value: unknown): boolean =>
  !(value === undefined || value === null || value === false || value === 0 || value === '' || (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0));
