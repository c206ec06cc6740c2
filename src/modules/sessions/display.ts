/**
 * How PostHog's values endpoints turn stored values into names: each is JSON-decoded when it is JSON, lists are
 * flattened into their items (10 levels deep), and each item is written as Python writes it (convert_property_value):
 * true/false, None for null, objects and deeper lists as json.dumps(sort_keys=True).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MAX_FLATTEN_DEPTH = 10;
const INTEGER = /^\s*-?(?:0|[1-9]\d*)\s*$/;

function decode(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

function* flatten(items: Json[], depth: number): Generator<Json> {
  for (const item of items) {
    if (Array.isArray(item) && depth > 0) yield* flatten(item, depth - 1);
    else yield item;
  }
}

/** json.dumps' string escaping with ensure_ascii: everything outside printable ASCII as \uXXXX. */
function pythonString(text: string): string {
  const escapes: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const code = text.charCodeAt(i);
    out += escapes[char] ?? (code < 0x20 || code > 0x7e ? `\\u${code.toString(16).padStart(4, '0')}` : char);
  }
  return `${out}"`;
}

function pythonJson(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${pythonString(key)}: ${pythonJson(value[key]!)}`).join(', ')}}`;
}

function pythonDisplay(value: Json): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return pythonJson(value);
}

export function displayValues(stored: string[]): string[] {
  return stored.flatMap((text) =>
    // A whole integer is written digit for digit, as Python's int keeps it (beyond what a JavaScript number holds).
    INTEGER.test(text) ? [BigInt(text).toString()] : [...flatten([decode(text)], MAX_FLATTEN_DEPTH)].map(pythonDisplay),
  );
}
