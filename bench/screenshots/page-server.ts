/**
 * The page bench/screenshots renders, served on 127.0.0.1 from the bench process: page/index.html, its CSS and
 * script, page/fragment.html (fetched by the page when scrolled to), and 27 JPEG photographs generated here at
 * start-up with sharp. The images are deterministic (gradients, shapes and seeded noise, so they weigh what real
 * photographs weigh: 30-150 kB each), which keeps the rendered page identical from run to run and between the two
 * sides of the bench.
 *
 * `npm run bench:screenshots -- --serve` starts only this server, to look at the page in a browser.
 */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { mulberry32 } from '../lib/random.js';

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');

/** Every image the page refers to: name, size, and a hue for its colours. */
const IMAGES: ReadonlyArray<{ name: string; width: number; height: number; hue: number }> = [
  { name: 'hero', width: 1600, height: 700, hue: 95 },
  ...[1, 2, 3, 4, 5, 6].map((i) => ({ name: `card-${i}`, width: 600, height: 400, hue: 20 + i * 50 })),
  ...[1, 2].map((i) => ({ name: `figure-${i}`, width: 900, height: 500, hue: 200 + i * 40 })),
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ name: `gallery-${i}`, width: 800, height: 600, hue: 30 + i * 12 })),
  ...[1, 2, 3, 4, 5, 6].map((i) => ({ name: `feature-${i}`, width: 700, height: 450, hue: 140 + i * 30 })),
  ...[1, 2, 3, 4].map((i) => ({ name: `more-${i}`, width: 600, height: 400, hue: 300 + i * 15 })),
];

function hsl(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

async function makeImage(spec: (typeof IMAGES)[number], seed: number): Promise<Buffer> {
  const { width, height, hue } = spec;
  // Seeded, so the noise is the same in every run.
  const random = mulberry32(seed);
  const raw = Buffer.alloc(width * height * 3);
  const [r0, g0, b0] = hsl(hue, 0.45, 0.72);
  const [r1, g1, b1] = hsl((hue + 40) % 360, 0.5, 0.32);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width) * 0.4 + (y / height) * 0.6;
      const noise = (random() - 0.5) * 26;
      const i = (y * width + x) * 3;
      raw[i] = Math.max(0, Math.min(255, r0 + (r1 - r0) * t + noise));
      raw[i + 1] = Math.max(0, Math.min(255, g0 + (g1 - g0) * t + noise));
      raw[i + 2] = Math.max(0, Math.min(255, b0 + (b1 - b0) * t + noise));
    }
  }
  const shapes = Array.from({ length: 7 }, (_, i) => {
    const cx = Math.round(random() * width);
    const cy = Math.round(height * (0.55 + random() * 0.4));
    const r = Math.round(Math.min(width, height) * (0.05 + random() * 0.12));
    const [sr, sg, sb] = hsl((hue + 180 + i * 9) % 360, 0.35, 0.18 + random() * 0.2);
    return `<ellipse cx="${cx}" cy="${cy}" rx="${r * 1.4}" ry="${r}" fill="rgb(${sr},${sg},${sb})" fill-opacity="0.75"/>`;
  }).join('');
  const label = `<text x="${Math.round(width * 0.04)}" y="${Math.round(height * 0.16)}" font-family="DejaVu Sans, sans-serif" font-size="${Math.round(height * 0.09)}" fill="white" fill-opacity="0.9">${spec.name}</text>`;
  const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes}${label}</svg>`);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .composite([{ input: overlay }])
    .jpeg({ quality: 82, mozjpeg: false })
    .toBuffer();
}

export interface PageServer {
  /** The page's URL, http://127.0.0.1:<port>/. */
  url: string;
  /** Requests answered so far, by path; reset() starts a new count. */
  counts(): { total: number; byPath: Record<string, number> };
  reset(): void;
  /** Bytes of all the page's resources together (one full load). */
  pageBytes: number;
  /** How many resources one full load fetches (the page, its CSS, script, fragment and images). */
  resources: number;
  close(): Promise<void>;
}

export async function startPageServer(options: { latencyMs?: number } = {}): Promise<PageServer> {
  const latencyMs = options.latencyMs ?? 0;
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [file, type] of [
    ['index.html', 'text/html; charset=utf-8'],
    ['page.css', 'text/css; charset=utf-8'],
    ['lazy.js', 'text/javascript; charset=utf-8'],
    ['fragment.html', 'text/html; charset=utf-8'],
  ] as const) {
    files.set(file === 'index.html' ? '/' : `/${file}`, { type, body: await fs.readFile(path.join(PAGE_DIR, file)) });
  }
  const images = await Promise.all(IMAGES.map((spec, i) => makeImage(spec, 1000 + i)));
  IMAGES.forEach((spec, i) => files.set(`/img/${spec.name}.jpg`, { type: 'image/jpeg', body: images[i]! }));
  const pageBytes = [...files.values()].reduce((n, f) => n + f.body.length, 0);

  let byPath: Record<string, number> = {};
  let total = 0;
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://x').pathname;
    const file = files.get(pathname === '/index.html' ? '/' : pathname);
    total++;
    byPath[pathname] = (byPath[pathname] ?? 0) + 1;
    const answer = () => {
      if (!file || (request.method !== 'GET' && request.method !== 'HEAD')) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : file.body);
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    counts: () => ({ total, byPath: { ...byPath } }),
    reset() {
      total = 0;
      byPath = {};
    },
    pageBytes,
    resources: files.size,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
