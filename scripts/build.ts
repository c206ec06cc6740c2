import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * npm run build (and so npm start, npm run worker): compiles src/ to dist/, which is what the server and the
 * worker run. Plain node on compiled JavaScript, not tsx: tsx's loader thread and on-the-fly compilation cost a
 * server about 75 MiB of memory for as long as it runs.
 *
 * Emit only (tsconfig.build.json: noCheck, no type packages): `npm run typecheck` and the tests check the types, and
 * the build needs no devDependencies, so `npm ci --omit=dev && npm start` works too.
 *
 * Compiled into a directory of its own, then put in place with renames: a build next to a starting server, or two
 * builds at once (npm start and npm run worker together), never leaves a half-written dist/ to load.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const fresh = `${dist}.${process.pid}.tmp`;
const stale = `${dist}.${process.pid}.old`;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', fresh], { stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(fresh, { recursive: true, force: true });
  process.exit(compiled.status ?? 1);
}
// The JavaScript files of src/ (the in-page scripts, src/browser/page-scripts.ts) are read at run time, not
// compiled: copied as they are, to the same place next to the compiled modules.
for (const file of readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.js')) continue;
  mkdirSync(path.join(fresh, path.dirname(file)), { recursive: true });
  copyFileSync(path.join(root, 'src', file), path.join(fresh, file));
}
const moved = (from: string, to: string) => {
  try {
    renameSync(from, to);
    return true;
  } catch (error) {
    // ENOENT: no dist/ yet (or another build moved it). ENOTEMPTY/EEXIST: another build's dist/ landed meanwhile.
    if (['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  }
};
moved(dist, stale);
if (!moved(fresh, dist)) rmSync(fresh, { recursive: true, force: true });
rmSync(stale, { recursive: true, force: true });
