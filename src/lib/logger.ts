import { type DestinationStream, type Logger, type LoggerOptions, pino, stdSerializers } from 'pino';
import type { Config } from '../config.js';

/** Query parameters that carry secrets and never reach a log line. */
const SECRET_PARAMS = /([?&](?:personal_api_key|api_key|token|password)=)[^&#]*/gi;

export const redactUrl = (url: string): string => url.replace(SECRET_PARAMS, '$1[Redacted]');

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
