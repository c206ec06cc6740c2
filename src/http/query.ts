import { z } from 'zod';

/**
 * Query parameters read the way PostHog's views read them, as zod fields: the OpenAPI document shows the strings
 * they are on the wire, handlers and services get parsed values, and a value DRF would refuse is a 400 naming the
 * parameter (lib/validation.ts turns the issue into DRF's body).
 */

const text = () => z.string().optional();
const refuse = (ctx: z.RefinementCtx, message: string, code?: string) => {
  ctx.addIssue({ code: 'custom', message, ...(code && { params: { code } }) });
  return z.NEVER;
};

const DATETIME_FORMAT =
  'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].';
const TRUE_STRINGS = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE_STRINGS = new Set(['false', '0', 'no', 'off']);
/** DRF's BooleanField: its true and false spellings (those three case forms only), and its nulls when null is allowed. */
const DRF_TRUE = new Set(['t', 'T', 'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON', '1']);
const DRF_FALSE = new Set(['f', 'F', 'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF', '0']);
const DRF_NULL = new Set(['null', 'Null', 'NULL', '']);

/**
 * DRF's LimitOffsetPagination: a limit that is not a positive integer (an offset not 0 or more) is ignored. A count
 * beyond what JavaScript holds exactly is read as the largest it does, which no table reaches either.
 */
function lenientCount(allowZero: boolean) {
  return (value: string | undefined): number | undefined => {
    if (value === undefined || !/^\s*\+?\d+\s*$/.test(value)) return undefined;
    const n = Math.min(Number.parseInt(value, 10), Number.MAX_SAFE_INTEGER);
    return n > 0 || (allowZero && n === 0) ? n : undefined;
  };
}

function listValues(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string' || typeof item === 'number')) return parsed.map(String);
    } catch {
      // Not JSON after all: a comma-separated list that starts with "[".
    }
  }
  return trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim());
}

export const query = {
  /** DRF pagination's `limit`; undefined when absent or not a positive integer. */
  pageLimit: (meta?: { description: string }) => (meta ? text().meta(meta) : text()).transform(lenientCount(false)),
  /** DRF pagination's `offset`; undefined when absent or not 0 or more. */
  pageOffset: (meta?: { description: string }) => (meta ? text().meta(meta) : text()).transform(lenientCount(true)),

  /** DRF's IntegerField: "5", "+5", " 5 " and "5.0" pass; anything else is "A valid integer is required.". */
  integer: (meta?: { description: string }) =>
    (meta ? text().meta(meta) : text()).transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (!/^\s*[-+]?\d+(\.0*)?\s*$/.test(value)) return refuse(ctx, 'A valid integer is required.');
      return Number.parseInt(value, 10);
    }),

  /** An IntegerField with min_value 1 that takes no decimal point. */
  positiveInteger: () =>
    text().transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (!/^\s*[-+]?\d+\s*$/.test(value)) return refuse(ctx, 'A valid integer is required.');
      const n = Number.parseInt(value, 10);
      return n < 1 ? refuse(ctx, 'Ensure this value is greater than or equal to 1.', 'min_value') : n;
    }),

  /** DRF's IntegerField with bounds: its messages for a value that is not an integer, below min_value or above max_value. */
  boundedInteger: (bounds: { min: number; max?: number }, meta?: { description: string }) =>
    (meta ? text().meta(meta) : text()).transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      if (!/^\s*[-+]?\d+(\.0*)?\s*$/.test(value)) return refuse(ctx, 'A valid integer is required.');
      const n = Number.parseInt(value, 10);
      if (n < bounds.min) return refuse(ctx, `Ensure this value is greater than or equal to ${bounds.min}.`, 'min_value');
      if (bounds.max !== undefined && n > bounds.max) return refuse(ctx, `Ensure this value is less than or equal to ${bounds.max}.`, 'max_value');
      return n;
    }),

  /** DRF's ChoiceField: one of `values`; an empty value is no value. */
  choice: <const T extends readonly string[]>(values: T, meta?: { description: string }) =>
    (meta ? text().meta(meta) : text()).transform((value, ctx): T[number] | undefined => {
      if (value === undefined || value === '') return undefined;
      return values.includes(value) ? value : refuse(ctx, `"${value}" is not a valid choice.`, 'invalid_choice');
    }),

  /** DRF's BooleanField(allow_null=True): its spellings of true and false; null, "" or absent are no value. */
  nullableBoolean: (meta?: { description: string }) =>
    (meta ? text().meta(meta) : text()).transform((value, ctx): boolean | undefined => {
      if (value === undefined || DRF_NULL.has(value)) return undefined;
      if (DRF_TRUE.has(value)) return true;
      return DRF_FALSE.has(value) ? false : refuse(ctx, 'Must be a valid boolean.');
    }),

  /** An integer filter that is applied only when it is one (django-filter style): anything else is no filter. */
  optionalInteger: () => text().transform((value) => (value !== undefined && /^\s*-?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : undefined)),

  /** DRF's DateTimeField: an ISO date-time (a date alone is midnight UTC); anything else is DRF's format message. */
  datetime: () =>
    text().transform((value, ctx) => {
      if (value === undefined) return undefined;
      const ms = Date.parse(value);
      if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) return refuse(ctx, DATETIME_FORMAT);
      return new Date(ms).toISOString();
    }),

  /**
   * Several values of one parameter, however a client sends them: repeated (`refs=a&refs=b`), as a JSON array
   * (`refs=["a","b"]`, what PostHog's web app's toParams makes of an array) or comma-separated (`refs=a,b`).
   * An empty value is an empty list.
   */
  list: (meta?: { description: string }) =>
    (meta ? z.union([z.string(), z.array(z.string())]).optional().meta(meta) : z.union([z.string(), z.array(z.string())]).optional()).transform(
      (value) => (value === undefined ? undefined : [value].flat().flatMap(listValues)),
    ),

  /** A flag read by hand: true for "true", "1", "yes", "on", "t", "y" (any case), false otherwise. */
  flag: (meta?: { description: string }) =>
    (meta ? text().meta(meta) : text()).transform((value) => TRUE_STRINGS.has((value ?? '').toLowerCase())),

  /** A flag that is on unless turned off with "false", "0", "no" or "off" (any case). */
  flagDefaultOn: (meta?: { description: string }) =>
    (meta ? text().meta(meta) : text()).transform((value) => !FALSE_STRINGS.has((value ?? '').toLowerCase())),
};
