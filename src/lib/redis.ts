import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Longest a start waits for Redis; past it the server starts on per-process counters and connects later. */
const CONNECT_WAIT_MS = 1_000;
/** After a failed command Redis is left alone this long, so a hung Redis costs one timeout, not one per request. */
const PAUSE_AFTER_FAILURE_MS = 5_000;

/**
 * The Redis that server processes share their throttling and failed-login counters through (REDIS_URL). Its users
 * keep their own per-process counters as well and fall back to them whenever `run` answers undefined: Redis down,
 * slow or failing degrades the limits to per process, with one warning per outage, and never fails a request.
 */
export interface SharedRedis {
  /** For libraries that take an ioredis client (@fastify/rate-limit's store); call it only through `run`. */
  readonly client: Redis;
  /** The command's result, or undefined when Redis is unavailable or the command fails or times out. */
  run<T>(command: (client: Redis) => Promise<T>): Promise<T | undefined>;
  /** Connects, waiting at most a second; while Redis is down it warns and keeps reconnecting in the background. */
  connect(): Promise<void>;
  close(): void;
}

export function createSharedRedis(url: string, log: Logger): SharedRedis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 250,
    // Commands fail at once instead of waiting for a reconnection; reconnecting goes on in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  let down = false;
  let closing = false;
  let pausedUntil = 0;

  function markDown(error: unknown): void {
    pausedUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
    if (down || closing) return;
    down = true;
    log.warn({ err: error }, 'Redis is unavailable: throttling and failed-login counters are per process until it answers again');
  }

  function markUp(): void {
    if (!down) return;
    down = false;
    log.info('Redis answers again: throttling and failed-login counters are shared');
  }

  client.on('error', markDown);
  client.on('close', () => markDown(new Error('Connection to Redis closed')));
  client.on('ready', () => {
    pausedUntil = 0;
    markUp();
  });

  return {
    client,

    async run<T>(command: (client: Redis) => Promise<T>): Promise<T | undefined> {
      if (client.status !== 'ready' || Date.now() < pausedUntil) return undefined;
      try {
        const result = await command(client);
        markUp();
        return result;
      } catch (error) {
        markDown(error);
        return undefined;
      }
    },

    async connect(): Promise<void> {
      // A failed first attempt is reported by the 'error' event; ioredis keeps retrying.
      const connecting = client.connect().catch(() => undefined);
      await Promise.race([connecting, delay(CONNECT_WAIT_MS, undefined, { ref: false })]);
    },

    close(): void {
      closing = true;
      client.disconnect();
    },
  };
}
