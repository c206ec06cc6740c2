import { gunzipSync } from 'node:zlib';
import LZString from 'lz-string';
import { jsonNestingExceeds } from '../../lib/json-depth.js';
import { hasUnstorableText, storableText } from '../../lib/postgres-text.js';
import { CaptureError, PayloadTooBigError } from './errors.js';

/**
 * What a capture request carries, decoded the way PostHog's capture service decodes it (rust/capture, payload/):
 * the bytes come from the body, from a form body's `data` field or from the `data` query parameter; gzip is
 * recognised by its magic bytes or `compression=gzip|gzip-js`, lz-string by `compression=lz64`, base64 by
 * `compression=base64` or by its look; what is left must be UTF-8 JSON.
 */

export interface CaptureInput {
  method: string;
  contentType: string | undefined;
  body: Buffer | undefined;
  query: Record<string, string | undefined>;
}

type Compression = 'gzip' | 'lz64' | 'base64' | 'none';

function compressionOf(value: string | undefined | null): Compression {
  switch ((value ?? '').toLowerCase()) {
    case 'gzip':
    case 'gzip-js':
      return 'gzip';
    case 'lz64':
    case 'lz-string':
      return 'lz64';
    case 'base64':
      return 'base64';
    default:
      return 'none';
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const looksLikeBase64 = (text: string) => text.length % 4 !== 1 && BASE64.test(text.replace(/\s+/g, ''));
const fromBase64 = (text: string) => Buffer.from(text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/'), 'base64');
const hasGzipMagic = (bytes: Buffer) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** The payload's bytes and how they are compressed. */
function payloadBytes({ method, contentType, body, query }: CaptureInput): { bytes: Buffer; compression: Compression } {
  const queryCompression = compressionOf(query.compression);
  if (method === 'GET') {
    const data = query.data;
    if (data === undefined || data === '') throw new CaptureError('failed to decode request: missing data field');
    return fieldBytes(data, queryCompression);
  }
  const bytes = body ?? Buffer.alloc(0);
  if ((contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(bytes.toString('utf8'));
    const data = form.get('data');
    if (data === null || data === '') throw new CaptureError('failed to decode request: missing data field');
    const formCompression = compressionOf(form.get('compression'));
    return fieldBytes(data, formCompression === 'none' ? queryCompression : formCompression);
  }
  return { bytes, compression: queryCompression };
}

/** A `data` field holds text: base64 (possibly of gzip) unless it is JSON already. */
function fieldBytes(data: string, compression: Compression): { bytes: Buffer; compression: Compression } {
  if (compression === 'lz64') return { bytes: Buffer.from(data, 'utf8'), compression };
  const trimmed = data.trimStart();
  if (compression === 'base64' || (!trimmed.startsWith('{') && !trimmed.startsWith('[') && looksLikeBase64(data))) {
    return { bytes: fromBase64(data), compression: compression === 'gzip' ? 'gzip' : 'none' };
  }
  return { bytes: Buffer.from(data, 'utf8'), compression };
}

function decompress(bytes: Buffer, compression: Compression, limit: number): string {
  if (compression === 'gzip' || hasGzipMagic(bytes)) {
    let inflated: Buffer;
    try {
      inflated = gunzipSync(bytes, { maxOutputLength: limit });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new PayloadTooBigError(limit);
      throw new CaptureError('failed to decode request: invalid GZIP data');
    }
    return utf8(inflated, 'invalid gzip data');
  }
  if (compression === 'lz64') {
    const text = LZString.decompressFromBase64(bytes.toString('utf8'));
    if (!text) throw new CaptureError('failed to decode request: decompress_lz64: failed decompress to UTF16');
    if (Buffer.byteLength(text) > limit) throw new PayloadTooBigError(limit);
    return text;
  }
  if (compression === 'base64') return utf8(fromBase64(bytes.toString('utf8')), 'invalid base64 data');
  return utf8(bytes, 'invalid UTF8 in request payload');
}

const decoder = new TextDecoder('utf-8', { fatal: true });
function utf8(bytes: Buffer, problem: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CaptureError(`failed to decode request: ${problem}`);
  }
}

/**
 * Postgres stores neither NUL nor a lone UTF-16 surrogate in jsonb or text; an SDK can send both (a property holding
 * binary junk, a string cut in the middle of an emoji). They become U+FFFD, as PostHog's capture does with invalid
 * surrogates, instead of costing the whole batch.
 */
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}|\u0000|[\ud800-\udfff]/i;
function storable(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.some(hasUnstorableText)) return value;
  return Object.fromEntries(keys.map((key) => [storableText(key), (value as Record<string, unknown>)[key]]));
}

/** serde_json's recursion limit, which PostHog's capture parses with; deeper JSON would also overflow jsonb. */
const MAX_DEPTH = 128;

function parseJson(text: string, sanitize: boolean): unknown {
  if (jsonNestingExceeds(text, MAX_DEPTH)) throw new CaptureError('failed to parse request: recursion limit exceeded');
  try {
    return sanitize && UNSTORABLE_ESCAPE.test(text) ? JSON.parse(text, storable) : JSON.parse(text);
  } catch {
    // The legacy endpoints also take a body that is base64 once more.
    const trimmed = text.trim();
    if (looksLikeBase64(trimmed)) {
      try {
        return JSON.parse(utf8(fromBase64(trimmed), 'invalid base64 data'), sanitize ? storable : undefined);
      } catch {
        // not that either: the error below
      }
    }
    throw new CaptureError('failed to parse request: the payload is not valid JSON');
  }
}

/**
 * The request's JSON, whatever its encoding; `limit` bounds the decompressed size. With `sanitize`, strings Postgres
 * cannot store are made storable (events); recordings keep every character, since their rrweb events are stored as
 * compressed bytes and their cv-compressed fields are binary strings.
 */
export function decodePayload(input: CaptureInput, limit: number, options: { sanitize: boolean }): unknown {
  const { bytes, compression } = payloadBytes(input);
  if (bytes.length === 0) throw new CaptureError('failed to decode request: empty body');
  return parseJson(decompress(bytes, compression, limit), options.sanitize);
}
