import { accessSync, constants, statSync } from 'node:fs';
import type { BaseLogger } from 'pino';

/** Which Chromium the pool launches: CHROMIUM_PATH, or the first of the usual places that has one. */

/** Where we look for a browser when CHROMIUM_PATH is unset, in order. */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
] as const;

const INSTALL_HINT = 'Install Chromium (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable';

export type ChromiumLocation =
  | { found: true; path: string; source: 'CHROMIUM_PATH' | 'search' }
  | { found: false; problem: string };

function isExecutableFile(path: string): boolean {
  try {
    const stat = statSync(path);
    // access(X_OK) alone says yes to root for any file with an execute bit; want one for us in practice.
    if (!stat.isFile() || (stat.mode & 0o111) === 0) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser to launch: CHROMIUM_PATH when set (and then only that: a wrong path is reported, not papered over),
 * else the first executable of CHROMIUM_CANDIDATES.
 */
export function findChromium(configured?: string, candidates: readonly string[] = CHROMIUM_CANDIDATES): ChromiumLocation {
  if (configured) {
    if (isExecutableFile(configured)) return { found: true, path: configured, source: 'CHROMIUM_PATH' };
    return {
      found: false,
      problem: `No browser to render screenshots with: CHROMIUM_PATH=${configured} is not an executable file. ${INSTALL_HINT}.`,
    };
  }
  const path = candidates.find(isExecutableFile);
  if (path) return { found: true, path, source: 'search' };
  return {
    found: false,
    problem: `No browser to render screenshots with: CHROMIUM_PATH is unset and none of ${candidates.join(', ')} exists. ${INSTALL_HINT}.`,
  };
}

/**
 * For start-up: finds the browser and logs where it is, or a warning saying what to install or set. Screenshot
 * jobs still run without one and fail with the same words.
 */
export function checkChromium(configured: string | undefined, log: Pick<BaseLogger, 'info' | 'warn'>): ChromiumLocation {
  const location = findChromium(configured);
  if (location.found) log.info({ chromiumPath: location.path, source: location.source }, 'screenshots render with this Chromium');
  else log.warn(`${location.problem} Screenshot heatmaps will fail until then.`);
  return location;
}

/** Why `path` cannot be launched, when it is no longer an executable file (removed or replaced since start-up). */
export function missingChromium(path: string): string | undefined {
  return isExecutableFile(path) ? undefined : `No browser to render screenshots with: ${path} is gone. ${INSTALL_HINT}.`;
}
