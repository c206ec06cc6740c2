/**
 * PostHog's tree paths: segments joined by "/", where a "/" inside a name is written "\/" and a backslash "\\".
 * Splitting drops empty segments, so "a//b" and "/a/b/" are both ["a", "b"]; depth is the number of segments.
 */

export function escapePath(name: string): string {
  return name.replace(/\\/g, '\\\\').replace(/\//g, '\\/');
}

export function joinPath(segments: readonly string[]): string {
  return segments.map(escapePath).join('/');
}

export function splitPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i += 1) {
    const char = path[i]!;
    const next = path[i + 1];
    if (char === '\\' && (next === '/' || next === '\\')) {
      current += next;
      i += 1;
    } else if (char === '/') {
      if (current) segments.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current) segments.push(current);
  return segments;
}

export const pathDepth = (path: string): number => splitPath(path).length;

/** The escaped paths of every ancestor folder of a path, shortest first ("a/b/c" gives "a" and "a/b"). */
export function ancestorPaths(path: string): string[] {
  const segments = splitPath(path);
  return segments.slice(0, -1).map((_, i) => joinPath(segments.slice(0, i + 1)));
}

/** The last segment, unescaped: an entry's display name. */
export const lastSegment = (path: string): string => splitPath(path).at(-1) ?? '';

/** The path with its last segment replaced by a new name (escaped). */
export function withLastSegment(path: string, name: string): string {
  const segments = splitPath(path);
  return joinPath([...segments.slice(0, -1), name]);
}

/**
 * PostHog refuses paths over 4000 characters. Burrow's folder listings need the path in a btree index, whose rows
 * hold at most 2704 bytes (with the project id and depth beside it), so the rule is in UTF-8 bytes: 2600.
 */
const MAX_PATH_BYTES = 2600;
const MAX_PATH_DEPTH = 50;

/** Why a path cannot be written (the same rule for create, update, move, link, undo and objects filed in the tree). */
export function pathProblem(path: string): string | null {
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `Path must be ${MAX_PATH_BYTES} bytes or fewer.`;
  if (splitPath(path).length > MAX_PATH_DEPTH) return `Path can be at most ${MAX_PATH_DEPTH} levels deep.`;
  return null;
}
