import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { ok } from '../../helpers/api.js';
import type { TestContext } from '../../helpers/context.js';
import type { Body, Tenant } from '../../helpers/factories.js';
import { sleep, waitFor } from '../../helpers/jobs.js';

export type Sub = Record<string, any> & { id: number };

export interface Received {
  path: string;
  body: string;
  signature: string | undefined;
  /** The status it was answered with; null while it is held open (an answer of 0). */
  status: number | null;
}

/**
 * A local webhook receiver: answers each POST with the next status of `answers` (200 once they run out); an answer of
 * 0 holds the request open, unanswered, until the receiver closes.
 */
export async function receiver() {
  const received: Received[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/moved')) {
        res.writeHead(307, { location: req.url.slice('/moved'.length) || '/' }).end();
        return;
      }
      if (req.url?.startsWith('/to-localhost')) {
        res.writeHead(307, { location: `http://localhost:${(server.address() as AddressInfo).port}/hook` }).end();
        return;
      }
      const status = answers.shift() ?? 200;
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString(), signature: req.headers['x-burrow-signature'] as string | undefined, status: status || null });
      if (status !== 0) res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, received, answers, close };
}


/** A recording of the team that started `minutesAgo` minutes ago, 90 s long, on the checkout page. */
export const insertRecording = (ctx: TestContext, teamId: number, sessionId: string, minutesAgo: number, distinctId = 'alice') =>
  ctx.database.db.execute(sql`insert into session_recordings (team_id, session_id, distinct_id, start_time, end_time, active_milliseconds,
      click_count, keypress_count, mouse_activity_count, console_error_count, first_url, urls, snapshot_source, snapshot_library, retention_period_days)
    values (${teamId}, ${sessionId}, ${distinctId}, now() - ${minutesAgo} * interval '1 minute', now() - ${minutesAgo} * interval '1 minute' + interval '90 seconds',
      5000, 4, 2, 10, 1, 'https://shop.example.com/checkout', '[]'::jsonb, 'web', 'web', 30)`);

/**
 * A subscription's deliveries as `caller` reads them, and a wait until `n` of them have finished (polled every 200 ms:
 * a delivery that retries takes seconds, and the key's request rate is limited).
 */
export function deliveriesOf(caller: Pick<Tenant, 'call'>, subscriptionsUrl: string) {
  const list = async (id: number) => ok<{ results: Body[] }>(await caller.call('GET', `${subscriptionsUrl}/${id}/deliveries/`)).results;
  const finished = (id: number, n: number) =>
    waitFor(async () => {
      await sleep(200);
      const rows = await list(id);
      return rows.filter((d) => d.status !== 'starting').length >= n && rows;
    }, 30_000);
  return { list, finished };
}
