import { readdirSync, readFileSync } from 'node:fs';

/**
 * Code that runs in the page lives in page-scripts/: plain JavaScript, type-checked against the DOM
 * (tsconfig.page-scripts.json, part of `npm run typecheck`), read here once and sent to the page as the text it is.
 * Not functions passed to page.evaluate: their source would be whatever the loader compiled (tsx's esbuild adds
 * `__name(...)` calls that do not exist in the page). The build copies the folder next to the compiled modules.
 *
 * Each file declares a function named after it (scroll-pass.js: scrollPass) and may call the functions of the other
 * files. A script is its file and every file it calls, declared inside one function, so the page's globals are left
 * alone; its arguments are passed as JSON.
 */

const FOLDER = new URL('./page-scripts/', import.meta.url);
const functionName = (file: string) => file.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
const sources = new Map(
  readdirSync(FOLDER)
    .filter((file) => file.endsWith('.js'))
    .map((file) => [functionName(file.slice(0, -'.js'.length)), readFileSync(new URL(file, FOLDER), 'utf8')]),
);

/** The functions `name` needs: itself and every one its source calls, at any depth. */
function needed(name: string): string[] {
  const found = new Set([name]);
  for (const current of found) {
    const source = sources.get(current);
    if (source === undefined) throw new Error(`No page script declares ${current}`);
    for (const other of sources.keys()) if (new RegExp(`\\b${other}\\(`).test(source)) found.add(other);
  }
  return [...found];
}

/** Builds the expression that calls page-scripts/<file>.js's function with the given arguments. */
export function pageScript<Args extends unknown[]>(file: string): (...args: Args) => string {
  const name = functionName(file);
  const fn = `(() => {\n${needed(name).map((each) => sources.get(each)).join('\n')}\nreturn ${name};\n})()`;
  return (...args) => `${fn}(${args.map((arg) => JSON.stringify(arg)).join(', ')})`;
}
