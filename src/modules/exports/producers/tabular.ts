import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PDF_ROW_LIMIT, pythonStr, ROW_LIMIT } from '../rules.js';
import { PdfTable } from './pdf.js';

export type Row = Record<string, unknown>;

/** The note row PostHog-style exports end with when the source had more rows than the limit. */
export const limitNote = (limit: number) => `Note: this export was limited to the first ${limit} rows.`;
export const LIMIT_NOTE = limitNote(ROW_LIMIT);
const NO_DATA = 'No data available or unable to format for export.';
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);
// XML 1.0 refuses these control characters; openpyxl raises on them, PostHog strips them.
const ILLEGAL_XLSX = /[\x00-\x08\x0B\x0C\x0E-\x1F]/g;

/** PostHog's sanitize_formula_injection: a text cell (or header) a spreadsheet would run as a formula gets a leading quote. */
export function neutraliseFormula(value: string): string {
  return value.length > 0 && FORMULA_START.has(value[0]!) ? `'${value}` : value;
}

/** The DRF-CSV flattener: nested objects become a.b, lists a.0, a.1; a primitive stays under its key. */
export function flatten(value: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    for (const [key, item] of entries) flatten(item, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/** Keys in first-seen order, grouped by their top-level prefix so that all properties.* columns sit together. */
export function groupColumns(keys: Iterable<string>): string[] {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const top = key.split('.', 1)[0]!;
    const group = groups.get(top);
    if (group) group.push(key);
    else groups.set(top, [key]);
  }
  return [...groups.values()].flat();
}

/** export_context.columns: each listed column, expanded to its nested keys when rows have them, kept when rows have it plain. */
export function chooseColumns(seen: string[], requested: string[] | undefined): string[] {
  if (!requested || requested.length === 0) return groupColumns(seen);
  const out: string[] = [];
  for (const column of requested) {
    const nested = seen.filter((key) => key.startsWith(`${column}.`));
    if (seen.includes(column) || nested.length === 0) out.push(column);
    out.push(...nested);
  }
  return [...new Set(out)];
}

/** Python's str() of a cell, as the CSV writer prints it; an empty cell for none. */
const csvText = (value: unknown): string => (value === null || value === undefined ? '' : pythonStr(value));

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function write(stream: WriteStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

export interface TabularOutput {
  format: 'csv' | 'xlsx' | 'json' | 'pdf';
  columns?: string[];
}

/** Runs `work` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'burrow-export-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** produceTabularFile's bytes (tests, small files). */
export const produceTabular = (rows: AsyncIterable<Row>, output: TabularOutput, signal: AbortSignal): Promise<Buffer> =>
  withTempDir(async (dir) => readFile(await produceTabularFile(rows, output, signal, dir)));

/** A node of the flattened keys seen so far: `index` is its key's place in `names` once a row had a plain value there. */
interface KeyNode {
  children: Map<string, KeyNode> | undefined;
  index: number;
}

/**
 * The columns of rows as flatten() names them, collected without building a Map and a dotted name per key of every
 * row: a row is walked along a tree of the keys already seen, and a name is built only for a key not seen before.
 * leaves() answers the row's plain values as [column index, value, …] in flatten()'s order, so that a second pass
 * places them in the chosen columns without parsing and flattening the row again.
 */
class ColumnCollector {
  readonly names: string[] = [];
  private readonly root: KeyNode = { children: undefined, index: -1 };
  private readonly indexOf = new Map<string, number>();
  private path: string[] = [];

  leaves(row: Row): unknown[] {
    const out: unknown[] = [];
    this.path = [];
    this.walk(row, this.root, out);
    return out;
  }

  /** `value` as JSON.parse(JSON.stringify(value)) would give it, walked as flatten() walks it. */
  private walk(value: unknown, node: KeyNode, out: unknown[] | null): void {
    if (value !== null && typeof value === 'object') {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) this.child(node, String(i), jsonValue(value[i], String(i)) ?? null, out);
      } else {
        for (const key of Object.keys(value)) {
          const item = jsonValue((value as Record<string, unknown>)[key], key);
          // A property JSON leaves out (undefined, a function) still has its column, empty, as flatten() gives it.
          if (item !== undefined) this.child(node, key, item, out);
          else this.child(node, key, undefined, null);
        }
      }
    } else if (this.path.length > 0) {
      if (node.index < 0) {
        const name = this.path.join('.');
        let index = this.indexOf.get(name);
        if (index === undefined) {
          index = this.names.length;
          this.names.push(name);
          this.indexOf.set(name, index);
        }
        node.index = index;
      }
      if (out) out.push(node.index, value);
    }
  }

  /** Walks `value` under `key`; `out` null names the column without a value. */
  private child(node: KeyNode, key: string, value: unknown, out: unknown[] | null): void {
    node.children ??= new Map();
    let next = node.children.get(key);
    if (!next) {
      next = { children: undefined, index: -1 };
      node.children.set(key, next);
    }
    this.path.push(key);
    this.walk(value, next, out);
    this.path.pop();
  }
}

/** A property's value as JSON.stringify writes it and JSON.parse reads it back; undefined where it leaves it out. */
function jsonValue(value: unknown, key: string): unknown {
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint') && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
      return value;
    default:
      return value;
  }
}

/**
 * Writes a tabular file in `dir` from rows with flat memory. A JSON file is written as the rows come. Other formats
 * need every row's columns first: each row's plain values go to a JSON-lines file on disk as [column index, value, …]
 * while the columns are collected (at most ROW_LIMIT rows, PDF_ROW_LIMIT for a PDF, then PostHog's note), then a
 * second pass writes the CSV, XLSX or PDF file. Answers the file's path.
 */
export async function produceTabularFile(rows: AsyncIterable<Row>, output: TabularOutput, signal: AbortSignal, dir: string): Promise<string> {
  const file = path.join(dir, `out.${output.format}`);
  const limit = output.format === 'pdf' ? PDF_ROW_LIMIT : ROW_LIMIT;
  if (output.format === 'json') {
    const out = createWriteStream(file);
    try {
      await write(out, '[');
      let count = 0;
      for await (const row of rows) {
        signal.throwIfAborted();
        if (count >= limit) break;
        await write(out, `${count === 0 ? '' : ','}${JSON.stringify(row)}`);
        count += 1;
      }
      await write(out, ']');
    } finally {
      await close(out);
    }
    return file;
  }

  const buffer = path.join(dir, 'rows.jsonl');
  const lines = createWriteStream(buffer);
  const collector = new ColumnCollector();
  let count = 0;
  let truncated = false;
  try {
    for await (const row of rows) {
      signal.throwIfAborted();
      if (count >= limit) {
        truncated = true;
        break;
      }
      count += 1;
      await write(lines, `${JSON.stringify(collector.leaves(row))}\n`);
    }
  } finally {
    await close(lines);
  }

  let columns = chooseColumns(collector.names, output.columns);
  let body: AsyncIterable<unknown[]>;
  if (count === 0) {
    const placeholder: unknown[] = output.columns?.length ? columns.map(() => null) : [NO_DATA];
    if (!output.columns?.length) columns = ['error'];
    body = (async function* () {
      yield placeholder;
    })();
  } else {
    // Each collected key's column, or -1 when it is not exported; the last value of a column in a row wins, as in flatten().
    const position = new Map(columns.map((column, i) => [column, i]));
    const columnOf = collector.names.map((name) => position.get(name) ?? -1);
    const width = columns.length;
    body = (async function* () {
      const reader = createInterface({ input: createReadStream(buffer), crlfDelay: Infinity });
      for await (const line of reader) {
        if (!line) continue;
        const leaves = JSON.parse(line) as unknown[];
        const cells: unknown[] = new Array<unknown>(width).fill(undefined);
        for (let i = 0; i < leaves.length; i += 2) {
          const at = columnOf[leaves[i] as number]!;
          if (at >= 0) cells[at] = leaves[i + 1];
        }
        yield cells;
      }
      if (truncated && output.format !== 'pdf') yield [limitNote(limit), ...columns.slice(1).map(() => null)];
    })();
  }

  if (output.format === 'pdf') {
    // The note across the whole table rather than in the first column, which is too narrow for it.
    const table = await PdfTable.open(file, columns);
    try {
      for await (const cells of body) {
        signal.throwIfAborted();
        await table.addRow(cells.map(csvText));
      }
      if (truncated) table.note(limitNote(limit));
      await table.finish();
    } catch (error) {
      table.abort();
      throw error;
    }
  } else if (output.format === 'csv') {
    const out = createWriteStream(file);
    // Text is neutralised; numbers are not (a negative number is no formula).
    const line = (cells: unknown[]) => `${cells.map((c) => csvField(typeof c === 'string' ? neutraliseFormula(c) : csvText(c))).join(',')}\r\n`;
    await write(out, line(columns));
    for await (const cells of body) {
      signal.throwIfAborted();
      await write(out, line(cells));
    }
    await close(out);
  } else {
    const { default: ExcelJS } = await import('exceljs');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet('Sheet');
    const cell = (value: unknown) => {
      if (value === null || value === undefined) return null;
      if (typeof value === 'number' || typeof value === 'boolean') return value;
      return neutraliseFormula((typeof value === 'string' ? value : JSON.stringify(value)).replace(ILLEGAL_XLSX, ''));
    };
    sheet.addRow(columns.map(cell)).commit();
    for await (const cells of body) {
      signal.throwIfAborted();
      sheet.addRow(cells.map(cell)).commit();
    }
    sheet.commit();
    await workbook.commit();
  }
  return file;
}
