import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import type { Database } from '../../../src/db/client.js';
import { newUuid } from '../../../src/lib/ids.js';
import { createHeatmapsRepository } from '../../../src/modules/heatmaps/repository.js';

/**
 * The data Burrow's pages show, written as capture and a finished render leave it (no browser, no worker needed): the
 * web tests use it, and so does scripts/screenshots.ts for the README's pictures. No vitest here.
 */

let counter = 0;

/** A plain picture of a web page `width` wide: a header, a hero, two buttons and a few text lines. */
export async function pageScreenshot(width: number, height = 1400): Promise<Buffer> {
  const gutter = Math.round(width * 0.08);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<rect width="100%" height="100%" fill="#ffffff"/>
<rect width="100%" height="72" fill="#1d1f27"/>
<rect x="${gutter}" y="24" width="${Math.min(160, width / 3)}" height="24" rx="4" fill="#f5a623"/>
<rect x="${gutter}" y="140" width="${width - 2 * gutter}" height="48" rx="6" fill="#d9dbe3"/>
<rect x="${gutter}" y="210" width="${(width - 2 * gutter) * 0.7}" height="20" rx="4" fill="#e9eaef"/>
<rect x="${gutter}" y="290" width="${Math.min(220, width / 2.5)}" height="56" rx="8" fill="#1d4aff"/>
<rect x="${gutter + Math.min(240, width / 2.3)}" y="290" width="${Math.min(220, width / 2.5)}" height="56" rx="8" fill="#ffffff" stroke="#1d4aff" stroke-width="3"/>
${Array.from({ length: 12 }, (_, i) => `<rect x="${gutter}" y="${420 + i * 70}" width="${(width - 2 * gutter) * (0.6 + ((i * 7) % 4) / 10)}" height="16" rx="4" fill="#e9eaef"/>`).join('')}
</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 70 }).toBuffer();
}

/** A completed saved heatmap of `url` in the team, with a stored screenshot at each width. */
export async function savedHeatmapAt(database: Database, teamId: number, url: string, widths: number[], name: string | null = null) {
  const heatmaps = createHeatmapsRepository(database.db);
  const row = await heatmaps.insert({
    id: newUuid(),
    teamId,
    shortId: `web${String(++counter).padStart(5, '0')}${Math.random().toString(36).slice(2, 6)}`,
    name,
    url,
    dataUrl: url,
    targetWidths: widths,
    type: 'screenshot',
    status: 'completed',
    createdAt: new Date().toISOString(),
  });
  for (const width of widths) {
    if (!(await heatmaps.storeSnapshot(row.id, row.renderGeneration, width, await pageScreenshot(width)))) throw new Error('screenshot not stored');
  }
  return row;
}

/** $$heatmap events of visitors `width` wide on `url`: clicks, rage clicks and mouse moves around the points. */
export function heatmapEvents(url: string, width: number, points: { x: number; y: number; type?: string }[]) {
  return points.map((point, i) => ({
    uuid: newUuid(),
    event: '$$heatmap',
    distinct_id: `visitor-${i % 5}`,
    timestamp: new Date(Date.now() - 3_600_000 - i * 1000).toISOString(),
    properties: {
      $session_id: `heatmap-session-${i % 5}`,
      $viewport_width: width,
      $viewport_height: 800,
      $heatmap_data: { [url]: [{ x: point.x, y: point.y, target_fixed: false, type: point.type ?? 'click' }] },
    },
  }));
}

export interface DemoRecording {
  id: string;
  distinctId?: string;
  minutesAgo: number;
  seconds: number;
  url: string;
  consoleErrors?: string[];
}

/** A recording's metadata as capture leaves it (no blocks: the list, filters and links need none). */
export async function insertRecording(database: Database, teamId: number, r: DemoRecording) {
  const errors = r.consoleErrors ?? [];
  await database.db.execute(sql`insert into session_recordings (team_id, session_id, distinct_id, start_time, end_time, active_milliseconds,
      click_count, keypress_count, mouse_activity_count, console_error_count, first_url, urls, snapshot_source, snapshot_library, retention_period_days)
    values (${teamId}, ${r.id}, ${r.distinctId ?? 'alice@example.com'}, now() - ${r.minutesAgo} * interval '1 minute',
      now() - ${r.minutesAgo} * interval '1 minute' + ${r.seconds} * interval '1 second', ${Math.min(r.seconds, 60) * 1000},
      7, 3, 12, ${errors.length}, ${r.url}, ${JSON.stringify([r.url, `${r.url}#details`])}::jsonb, 'web', 'web', 30)`);
  for (const message of errors) {
    await database.db.execute(sql`insert into recording_console_logs (team_id, session_id, level, message, message_hash)
      values (${teamId}, ${r.id}, 'error', ${message}, ${createHash('md5').update(message).digest('hex')})`);
  }
}
