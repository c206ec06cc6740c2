import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface WebAsset {
  type: string;
  body: string;
  /** A hash of the body: pages link to `?v=<version>`, so a changed file is a new URL and old ones cache for ever. */
  version: string;
}

function asset(file: string, type: string): WebAsset {
  const body = readFileSync(path.join(here, 'assets', file), 'utf8');
  return { type, body, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}

/** The pages' one style sheet and one script, read once at start (no build step: plain CSS and JavaScript). */
export const WEB_ASSETS: Readonly<Record<string, WebAsset>> = {
  'web.css': asset('web.css', 'text/css; charset=utf-8'),
  'web.js': asset('web.js', 'application/javascript; charset=utf-8'),
};
