/**
 * npm run screenshots: pictures of Burrow's own pages for the README, at 1280 and 375 px wide.
 *
 * Starts the app on a temporary in-memory PGlite with demo data (a user, saved heatmaps with stored screenshots and
 * heatmap events, recordings, an export, subscriptions), signs in through the sign-in form in real Chromium and
 * writes docs/screenshots/<page>-<width>.png (palette PNGs, to keep the repository small).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import pino from 'pino';
import sharp from 'sharp';
import { buildApp } from '../src/app.js';
import { findChromium } from '../src/browser/chromium.js';
import { loadConfig } from '../src/config.js';
import { createContainer } from '../src/container.js';
import { openDatabase } from '../src/db/client.js';
import { startAppWorker } from '../src/jobs/app-worker.js';
import type { Actor } from '../src/modules/identity/index.js';
import { heatmapEvents, insertRecording, savedHeatmapAt } from '../test/modules/web/demo-data.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const EMAIL = 'ada@example.com';
const PASSWORD = 'correct horse battery staple 42';
const WIDTHS = [
  { width: 1280, height: 860 },
  { width: 375, height: 760 },
];

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'burrow-screenshots-'));
  const database = await openDatabase({ kind: 'pglite' });
  await database.migrate();
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', WORKERS: 'off', SITE_URL: 'https://burrow.example.com', EXPORT_CREATE_WAIT_SECONDS: '5' });
  const log = pino({ level: 'silent' });
  const services = createContainer(database, config, log);
  const app = await buildApp(services);

  // The demo account and its data.
  const { user, team } = await services.accounts.createAccount({ email: EMAIL, password: PASSWORD, firstName: 'Ada', organizationName: 'Example Shop' });
  const actor: Actor = { user, key: null, session: null };
  const key = await services.admin.apiKeys.create(actor, { label: 'CI uploads', scopes: ['*'] });
  await services.admin.apiKeys.create(actor, { label: 'Heatmap reader', scopes: ['heatmap:read', 'session_recording:read'] });
  const pricing = await savedHeatmapAt(database, team.id, 'https://shop.example.com/pricing', [375, 768, 1024], 'Pricing page');
  await savedHeatmapAt(database, team.id, 'https://shop.example.com/', [1024], 'Home page');
  await savedHeatmapAt(database, team.id, 'https://shop.example.com/checkout', [375, 1024], null);
  const hot = [
    ...Array.from({ length: 60 }, (_, i) => ({ x: 110 + (i % 8) * 12, y: 300 + (i % 4) * 10 })),
    ...Array.from({ length: 25 }, (_, i) => ({ x: 360 + (i % 5) * 14, y: 305 + (i % 3) * 12 })),
    ...Array.from({ length: 15 }, (_, i) => ({ x: 140 + i * 40, y: 150 + (i % 2) * 10 })),
  ];
  const batch = await app.inject({ method: 'POST', url: '/batch/', payload: { api_key: team.apiToken, batch: heatmapEvents(pricing.url, 1024, hot) } });
  if (batch.statusCode !== 200) throw new Error(`capture: ${batch.statusCode} ${batch.body}`);
  const recordings = [
    { id: '0193a1f2-checkout-1', minutesAgo: 25, seconds: 312, url: 'https://shop.example.com/checkout', distinctId: 'alice@example.com', consoleErrors: ['TypeError: cart is undefined'] },
    { id: '0193a1f2-pricing-2', minutesAgo: 70, seconds: 48, url: 'https://shop.example.com/pricing', distinctId: 'bob@example.com' },
    { id: '0193a1f2-home-3', minutesAgo: 180, seconds: 131, url: 'https://shop.example.com/', distinctId: 'carol@example.com' },
    { id: '0193a1f2-docs-4', minutesAgo: 600, seconds: 905, url: 'https://shop.example.com/docs/install', distinctId: 'dan@example.com' },
  ];
  for (const recording of recordings) await insertRecording(database, team.id, recording);
  const call = (method: 'GET' | 'POST', url: string, payload?: object) => app.inject({ method, url, headers: { authorization: `Bearer ${key.value}` }, ...(payload && { payload }) });
  const worker = await startAppWorker({ queue: services.queue, jobs: services.jobs, log, settings: { concurrency: 1, pollIntervalMs: 50, leaseMs: 30_000 } });
  const exported = await call('POST', `/api/projects/${team.id}/exports/`, {
    export_format: 'text/csv',
    export_context: { path: `/api/projects/${team.id}/session_recordings/`, filename: 'recordings' },
  });
  if (exported.statusCode !== 201) throw new Error(`export: ${exported.statusCode} ${exported.body}`);
  for (const [title, extra] of [
    ['Pricing heatmap, weekly', { saved_heatmap: pricing.shortId, frequency: 'weekly' }],
    ['Checkout recordings', { recordings_query: { date_from: '-7d', having_predicates: [{ type: 'recording', key: 'visited_page', operator: 'icontains', value: 'checkout' }] }, frequency: 'daily' }],
  ] as const) {
    const response = await call('POST', `/api/projects/${team.id}/subscriptions/`, { title, target_type: 'email', target_value: 'team@example.com', interval: 1, start_date: new Date().toISOString(), ...extra });
    if (response.statusCode !== 201) throw new Error(`subscription: ${response.statusCode} ${response.body}`);
  }
  const exportId = (exported.json() as { id: number }).id;
  for (let i = 0; i < 100; i++) {
    const row = (await call('GET', `/api/projects/${team.id}/exports/${exportId}/`)).json() as { has_content: boolean; exception: string | null };
    if (row.has_content || row.exception) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await worker.stop();

  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  const location = findChromium();
  if (!location.found) throw new Error(location.problem);
  const browser = await chromium.launch({ executablePath: location.path, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  await mkdir(OUT, { recursive: true });

  const shoot = async (page: Page, name: string, width: number) => {
    await page.waitForLoadState('networkidle');
    const png = await page.screenshot({ fullPage: false });
    const small = await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toBuffer();
    await writeFile(path.join(OUT, `${name}-${width}.png`), small);
    console.log(`docs/screenshots/${name}-${width}.png (${Math.round(small.length / 1024)} KiB)`);
  };

  try {
    for (const viewport of WIDTHS) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(`${origin}/login`);
      await shoot(page, 'sign-in', viewport.width);
      await page.fill('#email', EMAIL);
      await page.fill('#password', PASSWORD);
      await page.press('#password', 'Enter');
      await page.waitForURL(`${origin}/`);
      await page.locator('#keys tbody tr[data-key-id]').first().waitFor();
      await shoot(page, 'home', viewport.width);
      for (const [name, url, ready] of [
        ['heatmaps', '/heatmaps', '#heatmaps img.thumb'],
        ['heatmap', `/heatmaps/${pricing.shortId}`, '#heatmap-image:not([hidden])'],
        ['replay', '/replay?date_from=-30d', '#recordings tbody tr[data-session-id]'],
        ['exports', '/exports', '#exports tbody tr[data-export-id]'],
        ['subscriptions', '/subscriptions', '#subscriptions tbody tr[data-subscription-id]'],
      ] as const) {
        await page.goto(`${origin}${url}`);
        await page.locator(ready).first().waitFor();
        if (name === 'heatmap') await page.selectOption('#width', viewport.width < 800 ? '375' : '1024');
        await shoot(page, name, viewport.width);
      }
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    await services.browser.close();
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
