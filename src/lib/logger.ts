import { type DestinationStream, type Logger, type LoggerOptions, pino, stdSerializers } from 'pino';
import type { Config } from '../config.js';

/** Query parameters that carry secrets, by their decoded name (any case). */
const SECRET_PARAMS = new Set(['personal_api_key', 'api_key', 'token', 'password', 'access_token', 'sharing_access_token', 'secret']);
/** Personal API keys and secret project tokens, wherever they appear. */
const SECRET_TOKEN = /ph[xs]_[A-Za-z0-9]+/;
const REDACTED = '[Redacted]';

/** Python's unquote_plus, as the server reads a query string; undefined when the text is not valid %-encoding. */
function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** A part of a URL hides a secret when, decoded, it holds a key, or when it cannot be decoded at all. */
const holdsSecret = (text: string): boolean => {
  const plain = decoded(text);
  return plain === undefined ? SECRET_TOKEN.test(text) : SECRET_TOKEN.test(plain);
};

/**
 * A URL fit for a log line: the values of secret parameters (matched after decoding their names, so
 * `personal%5Fapi%5Fkey` counts) and any path segment or value that holds a personal API key or a secret project
 * token (`phx_…`, `phs_…`, however it is encoded) become [Redacted].
 */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const redactedPath = path
    .split('/')
    .map((segment) => (holdsSecret(segment) ? REDACTED : segment))
    .join('/');
  if (queryAt === -1) return redactedPath;
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      if (holdsSecret(name)) return REDACTED;
      if (eq === -1) return pair;
      const secretName = SECRET_PARAMS.has((decoded(name) ?? name).trim().toLowerCase());
      return secretName || holdsSecret(value) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${redactedPath}?${query}`;
}

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrftoken"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.personal_api_key',
  '*.value',
  '*.secureValue',
  '*.passwordHash',
  '*.apiToken',
  '*.secretApiToken',
];

/** The process's one logger (Fastify logs through it): JSON lines, pretty only on a TTY, secrets redacted. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const pretty = destination === undefined && process.stdout.isTTY;
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), id: req.id, ip: req.ip }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: stdSerializers.err,
    },
    ...(pretty && { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }),
  };
  return destination ? pino(options, destination) : pino(options);
}
