import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort } from './process.js';

/** The machine's Redis, which the shared-limits tests use under a key prefix of their own. */
export const TEST_REDIS = 'redis://127.0.0.1:6379';

/**
 * A REDIS_URL under a prefix unique to this run (ioredis takes `keyPrefix` from the URL's query), so test files
 * running side by side do not meet; `clean` deletes every key under it.
 */
export function redisNamespace() {
  const prefix = `burrow-test-${randomBytes(6).toString('hex')}:`;
  const client = new Redis(TEST_REDIS, { lazyConnect: true });
  return {
    url: `${TEST_REDIS}/0?keyPrefix=${prefix}`,
    /** Reads the machine's Redis directly, with full key names (the prefix included). */
    client,
    prefix,
    async keys(): Promise<string[]> {
      return (await client.keys(`${prefix}*`)).sort();
    },
    async clean(): Promise<void> {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    },
  };
}

/** A redis-server of the test's own on a free port, not started yet: to start, kill, pause and start again. */
export async function redisServer() {
  const port = await freePort();
  let child: ChildProcess | null = null;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start(): Promise<void> {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        } finally {
          probe.disconnect();
        }
      }
    },
    /** Kills the server, as a crash would. */
    async kill(): Promise<void> {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    /** SIGSTOP: the connection stays open and nothing answers, as with a hung server. */
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}
