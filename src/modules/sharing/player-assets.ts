import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const playerDist = path.dirname(createRequire(import.meta.url).resolve('rrweb-player'));
const here = path.dirname(fileURLToPath(import.meta.url));

/** The player's files served at /static/<name>, read once at start: rrweb-player from npm and Burrow's own page scripts and style. */
export const PLAYER_ASSETS: Readonly<Record<string, { type: string; body: string }>> = {
  'rrweb-player.js': { type: 'application/javascript; charset=utf-8', body: readFileSync(path.join(playerDist, 'rrweb-player.umd.min.cjs'), 'utf8') },
  'rrweb-player.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(playerDist, 'style.min.css'), 'utf8') },
  'window-switch.js': { type: 'application/javascript; charset=utf-8', body: readFileSync(path.join(here, 'page-scripts', 'window-switch.js'), 'utf8') },
  'recording-player.js': { type: 'application/javascript; charset=utf-8', body: readFileSync(path.join(here, 'page-scripts', 'recording-player.js'), 'utf8') },
  'recording-player.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(here, 'page-scripts', 'recording-player.css'), 'utf8') },
};
