import http from 'node:http';
import https from 'node:https';
import { isIP, isIPv6, type LookupFunction } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { untilAborted } from '../lib/abort.js';
import type { UrlGuard } from './url-guard.js';

/**
 * One HTTP request made from Node on behalf of the renderer's browser (src/browser/guarded-network.ts intercepts
 * every request and fulfils it with this):
 *
 * - The URL passes the guard first; a refusal is `{ blocked: true, reason }`, nothing is sent.
 * - The connection goes to the addresses the guard vetted, never to a fresh DNS answer (a pinned `lookup`), while
 *   the Host header, TLS SNI and certificate check use the URL's host name, so virtual hosts and HTTPS work.
 * - Redirects are not followed here: one call is one hop. The caller follows them (src/browser/guarded-network.ts
 *   does, hop by hop, each hop through this function and so through the guard). Handing a 3xx back to Chromium
 *   would not do: Playwright lets Chromium fetch a fulfilled redirect's Location itself, without routing it.
 * - The body is decoded (gzip, deflate, br) and `content-encoding`/`content-length` are dropped; an unknown
 *   coding is passed through with its header. The cap (`maxBytes`) applies to the bytes received and to the
 *   decoded body, so a compression bomb fails like an oversized body.
 * - Hop-by-hop headers are stripped both ways. Several `set-cookie` headers are joined with "\n", which is how
 *   Playwright's route.fulfill takes them.
 * - `timeoutMs` covers everything: the guard's DNS lookup, connecting, waiting and reading the body.
 *
 * Failures after the guard (connection refused, TLS, timeout, too large) throw a GuardedFetchError whose `code`
 * is one of Playwright's route.abort() error codes.
 */

export interface GuardedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export type GuardedResponse =
  | { blocked: false; status: number; headers: Record<string, string>; body: Buffer }
  | { blocked: true; reason: string };

export interface GuardedFetchOptions {
  signal?: AbortSignal;
  maxBytes: number;
  timeoutMs: number;
}

/** Playwright's route.abort() error codes, so the caller can pass `error.code` straight through. */
export type GuardedFetchErrorCode =
  | 'aborted'
  | 'timedout'
  | 'connectionrefused'
  | 'connectionreset'
  | 'connectionclosed'
  | 'addressunreachable'
  | 'failed';

export class GuardedFetchError extends Error {
  override readonly name = 'GuardedFetchError';
  constructor(
    message: string,
    readonly code: GuardedFetchErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Connections are kept alive between sub-requests of a page; idle ones close after a few seconds. */
const agentOptions = { keepAlive: true, maxSockets: 8, timeout: 4_000 } as const;
const httpAgent = new http.Agent(agentOptions);
const httpsAgent = new https.Agent(agentOptions);
/** Chromium accepts up to 256 KiB of response headers; Node's default (16 KiB) refuses some real sites. */
const MAX_HEADER_BYTES = 256 * 1024;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Methods browsers never send from a page (fetch() forbids them); CONNECT would also never get a response. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** Codings this module decodes, as they may appear in Accept-Encoding. */
const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity', '*']);

export async function guardedFetch(guard: UrlGuard, request: GuardedRequest, options: GuardedFetchOptions): Promise<GuardedResponse> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(new GuardedFetchError('Request aborted', 'aborted'));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new GuardedFetchError(`Request timed out after ${options.timeoutMs} ms`, 'timedout')),
    options.timeoutMs,
  );
  try {
    const verdict = await untilAborted(guard.check(request.url), controller.signal);
    if (!verdict.allowed) return { blocked: true, reason: verdict.reason };
    const { url, addresses } = verdict;

    let raw: RawResponse;
    for (let attempt = 1; ; attempt++) {
      try {
        raw = await send(url, addresses, request, options.maxBytes, controller.signal);
        break;
      } catch (error) {
        // A kept-alive connection the server closed while it sat idle: send again on a new one, as browsers do.
        if (!(error instanceof StaleConnectionError) || attempt >= 3) throw error instanceof StaleConnectionError ? error.cause : error;
      }
    }
    controller.signal.throwIfAborted();
    const { body, decoded } = await decode(raw.body, raw.headers['content-encoding'] ?? [], options.maxBytes);
    return { blocked: false, status: raw.status, headers: responseHeaders(raw.headers, decoded), body };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

interface RawResponse {
  status: number;
  headers: NodeJS.Dict<string[]>;
  body: Buffer;
}

class StaleConnectionError extends Error {}

function send(url: URL, addresses: string[], request: GuardedRequest, maxBytes: number, signal: AbortSignal): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const secure = url.protocol === 'https:';
    let req: http.ClientRequest | undefined;
    let res: http.IncomingMessage | undefined;
    let settled = false;
    const finish = (error: unknown, value?: RawResponse) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        req?.destroy();
        res?.destroy();
        reject(error);
      } else {
        resolve(value as RawResponse);
      }
    };
    const onAbort = () => finish(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    const headers = requestHeaders(request, url);
    const method = request.method.toUpperCase();
    if (FORBIDDEN_METHODS.has(method)) {
      finish(new GuardedFetchError(`Method ${method} not allowed`, 'failed'));
      return;
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    try {
      req = (secure ? https : http).request({
        agent: secure ? httpsAgent : httpAgent,
        protocol: url.protocol,
        host,
        // SNI carries no root dot (and no IP address), as in browsers; the certificate is checked against the name.
        ...(secure && !isIP(host) ? { servername: host.replace(/\.+$/, '') } : {}),
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        lookup: pinnedLookup(addresses),
        maxHeaderSize: MAX_HEADER_BYTES,
      });
    } catch (error) {
      finish(new GuardedFetchError(`Invalid request: ${(error as Error).message}`, 'failed', { cause: error }));
      return;
    }

    const sent = req;
    sent.on('error', (error: NodeJS.ErrnoException) => {
      const failure = networkError(error);
      const stale = sent.reusedSocket && !res && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      finish(stale ? new StaleConnectionError(failure.message, { cause: failure }) : failure);
    });
    sent.on('response', (response) => {
      res = response;
      const bodyless = method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304;
      const declared = Number(response.headers['content-length']);
      if (!bodyless && Number.isFinite(declared) && declared > maxBytes) return finish(tooLarge(maxBytes));
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) finish(tooLarge(maxBytes));
        else chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => finish(networkError(error)));
      response.on('close', () => {
        if (!response.complete) finish(new GuardedFetchError('Connection closed before the response was complete', 'connectionclosed'));
      });
      response.on('end', () =>
        finish(undefined, { status: response.statusCode ?? 0, headers: response.headersDistinct, body: Buffer.concat(chunks, size) }),
      );
    });
    sent.end(request.body && request.body.length > 0 ? request.body : undefined);
  });
}

/** Always answers with the vetted addresses, whatever name is asked: the connection cannot go anywhere else. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }));
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const candidates = family === 4 || family === 6 ? entries.filter((entry) => entry.family === family) : entries;
    const first = candidates[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error('No vetted address for this address family');
      error.code = 'ENOTFOUND';
      return callback(error, '');
    }
    if (options.all) callback(null, candidates);
    else callback(null, first.address, first.family);
  };
}

function requestHeaders(request: GuardedRequest, url: URL): Record<string, string> {
  const dropped = connectionTokens(request.headers['connection'] ?? request.headers['Connection']);
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(request.headers)) {
    const name = rawName.toLowerCase();
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    if (name === 'host' || name === 'content-length') continue;
    if (!validHeader(name, value)) continue;
    if (name === 'accept-encoding') {
      const codings = value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => DECODABLE.has(part.split(';')[0]?.trim().toLowerCase() ?? ''));
      out[name] = codings.length > 0 ? codings.join(', ') : 'identity';
      continue;
    }
    out[name] = value;
  }
  out['host'] = url.host;
  if (request.body && request.body.length > 0) out['content-length'] = String(request.body.length);
  return out;
}

function responseHeaders(headers: NodeJS.Dict<string[]>, decoded: boolean): Record<string, string> {
  const dropped = connectionTokens(headers['connection']?.join(','));
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (!values || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    // route.fulfill sets content-length from the body it is given.
    if (name === 'content-length' || (decoded && name === 'content-encoding')) continue;
    out[name] = values.join(name === 'set-cookie' ? '\n' : ', ');
  }
  return out;
}

function connectionTokens(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

function validHeader(name: string, value: string): boolean {
  try {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/** Undoes the content codings, last applied first. Returns the body unchanged (decoded: false) for an unknown one. */
async function decode(body: Buffer, contentEncoding: string[], maxBytes: number): Promise<{ body: Buffer; decoded: boolean }> {
  const codings = contentEncoding
    .flatMap((value) => value.split(','))
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding && coding !== 'identity');
  if (codings.length === 0) return { body, decoded: true };
  if (body.length === 0) return { body, decoded: true };
  if (!codings.every((coding) => ['gzip', 'x-gzip', 'deflate', 'br'].includes(coding))) return { body, decoded: false };
  // Lenient about a truncated stream, as browsers are; strict about size.
  const zlibOptions = { maxOutputLength: maxBytes, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  let out = body;
  try {
    for (const coding of codings.reverse()) {
      if (coding === 'br') {
        out = await brotli(out, { maxOutputLength: maxBytes, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      } else if (coding === 'deflate') {
        // "deflate" is meant to be zlib-wrapped, but some servers send a raw deflate stream; browsers accept both.
        const zlibWrapped = out.length >= 2 && ((out[0] ?? 0) & 0x0f) === 8 && (((out[0] ?? 0) << 8) | (out[1] ?? 0)) % 31 === 0;
        out = await (zlibWrapped ? inflate : inflateRaw)(out, zlibOptions);
      } else {
        out = await gunzip(out, zlibOptions);
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw tooLarge(maxBytes);
    throw new GuardedFetchError(`Could not decode the ${codings.join(', ')} response body`, 'failed', { cause: error });
  }
  return { body: out, decoded: true };
}

function tooLarge(maxBytes: number): GuardedFetchError {
  return new GuardedFetchError(`Response body larger than ${maxBytes} bytes`, 'failed');
}

function networkError(error: NodeJS.ErrnoException): GuardedFetchError {
  if (error instanceof GuardedFetchError) return error;
  const code = error.code ?? '';
  const known: Record<string, [string, GuardedFetchErrorCode]> = {
    ECONNREFUSED: ['Connection refused', 'connectionrefused'],
    ECONNRESET: ['Connection reset', 'connectionreset'],
    EPIPE: ['Connection reset', 'connectionreset'],
    EHOSTUNREACH: ['Host unreachable', 'addressunreachable'],
    ENETUNREACH: ['Network unreachable', 'addressunreachable'],
    EADDRNOTAVAIL: ['Address not available', 'addressunreachable'],
    ETIMEDOUT: ['Connection timed out', 'timedout'],
    HPE_HEADER_OVERFLOW: ['Response headers too large', 'failed'],
  };
  const match = known[code];
  if (match) return new GuardedFetchError(match[0], match[1], { cause: error });
  if (/CERT|TLS|SSL|ERR_OSSL/i.test(code)) return new GuardedFetchError(`TLS error: ${error.message}`, 'failed', { cause: error });
  return new GuardedFetchError(error.message || 'Request failed', 'failed', { cause: error });
}
