// @ts-check
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * npm run build (and so npm start, npm run worker): compiles src/ to dist/, which is what the server and the
 * worker run. Plain node on compiled JavaScript, not tsx: tsx's loader thread and on-the-fly compilation cost a
 * server about 75 MiB of memory for as long as it runs. This script is plain JavaScript for the same reason at
 * start: loading tsx just to find dist/ up to date took longer than the check.
 *
 * Skipped when dist/ was built from exactly the sources there now: dist/.source-hash holds a hash of everything the
 * output depends on (src/, the tsconfig files, the TypeScript version and this script).
 *
 * Emit only (tsconfig.build.json: noCheck, no type packages): `npm run typecheck` and the tests check the types, and
 * the build needs no devDependencies, so `npm ci --omit=dev && npm start` works too.
 *
 * Compiled into a directory of its own, then put in place with renames: a build next to a starting server, or two
 * builds at once (npm start and npm run worker together), never leaves a half-written dist/ to load.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const stampFile = '.source-hash';
const require = createRequire(import.meta.url);

function sourceHash() {
  const hash = createHash('sha256');
  const add = (/** @type {string} */ file) => hash.update(`${file}\0`).update(readFileSync(path.join(root, file))).update('\0');
  const sources = readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
  for (const file of [...sources, 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs']) add(file);
  hash.update(require('typescript/package.json').version);
  return hash.digest('hex');
}

function builtHash() {
  try {
    return readFileSync(path.join(dist, stampFile), 'utf8');
  } catch {
    return undefined;
  }
}

/** @param {string} from @param {string} to */
function moved(from, to) {
  try {
    renameSync(from, to);
    return true;
  } catch (error) {
    // ENOENT: no dist/ yet (or another build moved it). ENOTEMPTY/EEXIST: another build's dist/ landed meanwhile.
    if (['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(/** @type {NodeJS.ErrnoException} */ (error).code ?? '')) return false;
    throw error;
  }
}

function build(/** @type {string} */ hash) {
  const fresh = `${dist}.${process.pid}.tmp`;
  const stale = `${dist}.${process.pid}.old`;
  const tsc = require.resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', fresh], { stdio: 'inherit' });
  if (compiled.status !== 0) {
    rmSync(fresh, { recursive: true, force: true });
    process.exit(compiled.status ?? 1);
  }
  // The other files of src/ are read at run time, not compiled (the in-page scripts, the LLM prompts of
  // src/modules/replay-ai/prompts/): copied as they are, to the same place next to the compiled modules.
  for (const entry of readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const file = path.relative(path.join(root, 'src'), path.join(entry.parentPath, entry.name));
    mkdirSync(path.join(fresh, path.dirname(file)), { recursive: true });
    copyFileSync(path.join(root, 'src', file), path.join(fresh, file));
  }
  writeFileSync(path.join(fresh, stampFile), hash);
  moved(dist, stale);
  if (!moved(fresh, dist)) rmSync(fresh, { recursive: true, force: true });
  rmSync(stale, { recursive: true, force: true });
}

const hash = sourceHash();
if (builtHash() !== hash) build(hash);
