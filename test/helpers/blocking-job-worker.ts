/**
 * Run in a child process by test/jobs/jobs.test.ts: a job worker whose test.block handler never returns, so the test
 * can SIGKILL it mid-job. Arguments: <postgres url> <worker id> <lease ms>.
 */
import pino from 'pino';
import { openDatabase } from '../../src/db/client.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createWorker } from '../../src/jobs/worker.js';
import { testJobDefinitions } from './jobs.js';

const [url, workerId, leaseMs] = process.argv.slice(2);
if (!url || !workerId || !leaseMs) throw new Error('usage: blocking-job-worker.ts <postgres url> <worker id> <lease ms>');

const log = pino({ level: 'info' }, pino.destination(2));
const database = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
const queue = createJobQueue({ db: database.db, listen: database.listen, definitions: testJobDefinitions, log });
const worker = createWorker({
  queue,
  handlers: {
    'test.block': () => new Promise<void>(() => {}),
    'test.record': async () => {},
  },
  log,
  concurrency: 1,
  pollIntervalMs: 50,
  leaseMs: Number(leaseMs),
  workerId,
});
await worker.start();
