import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { ROOT } from './process.js';

/**
 * Test web servers for the renderer (real Chromium, no mocks):
 *
 * - the page server on 127.0.0.1 (the address the tests' guard allow-lists) serves test/fixtures/pages/*, with
 *   `{{ORIGIN}}`, `{{CANARY}}` and `{{CANARY_UDP_PORT}}` replaced, plus a few dynamic paths (below);
 * - the canary on 127.0.0.2, a loopback address the guard refuses: any request (TCP) or datagram (UDP on
 *   127.0.0.1) that reaches it is a hole in the guard.
 *
 * Dynamic paths: /report?... (records the query), /redirect?to=URL[&status=302], /loop (redirects to itself),
 * /hang (never answers),
 * /poll, /img.png?color=RRGGBB[&w=&h=] (and any *.png), /download (an attachment), /slow?ms=.
 */

const PAGES = path.join(ROOT, 'test/fixtures/pages');

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export interface PageServer {
  origin: string;
  url(pathAndQuery: string): string;
  requests: RecordedRequest[];
  /** Queries of /report requests, in arrival order. */
  reports: Array<Record<string, string>>;
  /** Paths of WebSocket upgrade attempts (there should be none). */
  upgrades: string[];
  hits(pathname: string): number;
  waitForRequest(pathname: string, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export interface Canary {
  origin: string;
  udpPort: number;
  /** Every TCP request that reached it. */
  requests: string[];
  /** Datagrams that reached the UDP port. */
  datagrams: number;
  close(): Promise<void>;
}

const pngCache = new Map<string, Buffer>();
async function png(color: string, width: number, height: number): Promise<Buffer> {
  const key = `${color}:${width}x${height}`;
  let image = pngCache.get(key);
  if (!image) {
    image = await sharp({ create: { width, height, channels: 3, background: `#${color}` } })
      .png()
      .toBuffer();
    pngCache.set(key, image);
  }
  return image;
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function trackSockets(server: http.Server): () => void {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () => {
    for (const socket of sockets) socket.destroy();
  };
}

export async function startCanary(): Promise<Canary> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'image/png');
    res.end();
  });
  server.on('upgrade', (req, socket: Socket) => {
    requests.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  const destroyAll = trackSockets(server);
  const port = await listen(server, '127.0.0.2');
  const udp = dgram.createSocket('udp4');
  const canary: Canary = {
    origin: `http://127.0.0.2:${port}`,
    udpPort: 0,
    requests,
    datagrams: 0,
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
  udp.on('message', () => canary.datagrams++);
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  canary.udpPort = udp.address().port;
  return canary;
}

export async function startPageServer(options: { canary?: Canary } = {}): Promise<PageServer> {
  const requests: RecordedRequest[] = [];
  const reports: Array<Record<string, string>> = [];
  const upgrades: string[] = [];
  const waiters: Array<{ pathname: string; resolve: (r: RecordedRequest) => void }> = [];
  let origin = '';

  const template = (text: string) =>
    text
      .replaceAll('{{ORIGIN}}', origin)
      .replaceAll('{{CANARY}}', options.canary?.origin ?? 'http://127.0.0.2:9')
      .replaceAll('{{CANARY_UDP_PORT}}', String(options.canary?.udpPort ?? 9))
      .replaceAll('{{CANARY_PORT}}', options.canary ? new URL(options.canary.origin).port : '9');

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers };
    requests.push(recorded);
    for (const waiter of waiters.filter((w) => w.pathname === url.pathname)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(recorded);
    }
    res.setHeader('cache-control', 'no-store');
    try {
      switch (url.pathname) {
        case '/report':
          reports.push(query);
          res.statusCode = 204;
          return res.end();
        case '/redirect':
          res.statusCode = Number(query.status ?? 302);
          res.setHeader('location', query.to ?? '/');
          return res.end();
        case '/hang':
          return; // never answered; destroyed on close
        case '/loop':
          res.statusCode = 302;
          res.setHeader('location', '/loop');
          return res.end();
        case '/poll':
          res.setHeader('content-type', 'text/plain');
          return res.end('ok');
        case '/slow':
          setTimeout(() => res.end('slow'), Number(query.ms ?? 1000));
          return;
        case '/download':
          res.setHeader('content-type', 'application/octet-stream');
          res.setHeader('content-disposition', 'attachment; filename="data.bin"');
          return res.end(Buffer.alloc(1024));
      }
      if (url.pathname.endsWith('.png')) {
        res.setHeader('content-type', 'image/png');
        return res.end(await png(query.color ?? '00ff00', Number(query.w ?? 200), Number(query.h ?? 200)));
      }
      const file = url.pathname === '/' ? 'basic.html' : url.pathname.slice(1);
      if (!/^[\w.-]+$/.test(file)) {
        res.statusCode = 404;
        return res.end();
      }
      const body = await readFile(path.join(PAGES, file), 'utf8');
      res.setHeader('content-type', file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html; charset=utf-8');
      res.end(template(body));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  server.on('upgrade', (req, socket: Socket) => {
    upgrades.push(req.url ?? '');
    socket.destroy();
  });
  const destroyAll = trackSockets(server);
  const port = await listen(server, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    url: (pathAndQuery) => `${origin}${pathAndQuery}`,
    requests,
    reports,
    upgrades,
    hits: (pathname) => requests.filter((r) => r.path === pathname).length,
    waitForRequest(pathname, timeoutMs = 5_000) {
      const seen = requests.find((r) => r.path === pathname);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no request for ${pathname} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          pathname,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
