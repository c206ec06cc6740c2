import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * /static/* of a built PostHog frontend: the directory's static/ folder when it has one, else the directory itself
 * (PostHog's frontend/dist keeps its bundles beside index.html, and Django serves that folder as /static/).
 */

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.mp3': 'audio/mpeg',
  '.wasm': 'application/wasm',
  '.lottie': 'application/zip',
};

/** esbuild's `[name]-[hash]` (PostHog's entryNames, chunkNames and assetNames): 8+ hash characters before the extension. */
const HASHED = /-[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+(\.map)?$/;

export interface StaticFile {
  stream: Readable;
  size: number;
  contentType: string;
  cacheControl: string;
  lastModified: Date;
}

export function staticRoot(dir: string): string {
  const nested = path.join(dir, 'static');
  return existsSync(nested) ? nested : dir;
}

/**
 * The file at `relative` under `root`, or null for anything else: a missing file, a directory, a path with `..`,
 * NUL or a backslash, or a symlink leading out of the root.
 */
export async function openStaticFile(root: string, relative: string): Promise<StaticFile | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((segment) => segment === '..')) return null;
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) return null;
  const resolved = path.resolve(realRoot, `.${path.posix.normalize(`/${decoded}`)}`);
  const real = await realpath(resolved).catch(() => null);
  if (!real || !real.startsWith(realRoot + path.sep)) return null;
  const info = await stat(real).catch(() => null);
  if (!info?.isFile()) return null;
  const name = path.basename(real);
  return {
    stream: createReadStream(real),
    size: info.size,
    contentType: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
    // Hashed names never change content; anything else (index.js, icons, site.webmanifest) is checked each time.
    cacheControl: HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate',
    lastModified: info.mtime,
  };
}
