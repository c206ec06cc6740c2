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
