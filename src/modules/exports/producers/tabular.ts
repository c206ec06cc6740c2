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

/**
 * Writes a tabular file in `dir` from rows with flat memory: the rows go to a JSON-lines file on disk while their
 * columns are collected (at most ROW_LIMIT rows, PDF_ROW_LIMIT for a PDF, then PostHog's note), then a second pass
 * writes the CSV, XLSX, JSON or PDF file. Answers the file's path.
 */
export async function produceTabularFile(rows: AsyncIterable<Row>, output: TabularOutput, signal: AbortSignal, dir: string): Promise<string> {
  const buffer = path.join(dir, 'rows.jsonl');
  const lines = createWriteStream(buffer);
  const seen = new Set<string>();
  const limit = output.format === 'pdf' ? PDF_ROW_LIMIT : ROW_LIMIT;
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
      for (const key of flatten(row).keys()) seen.add(key);
      await write(lines, `${JSON.stringify(row)}\n`);
    }
  } finally {
    await close(lines);
  }

  const readRows = async function* (): AsyncGenerator<Row> {
    const reader = createInterface({ input: createReadStream(buffer), crlfDelay: Infinity });
    for await (const line of reader) if (line) yield JSON.parse(line) as Row;
  };

  const file = path.join(dir, `out.${output.format}`);
  if (output.format === 'json') {
    const out = createWriteStream(file);
    await write(out, '[');
    let first = true;
    for await (const row of readRows()) {
      await write(out, `${first ? '' : ','}${JSON.stringify(row)}`);
      first = false;
    }
    await write(out, ']');
    await close(out);
    return file;
  }

  let columns = chooseColumns([...seen], output.columns);
  const cellsOf = (flat: Map<string, unknown>) => columns.map((column) => flat.get(column));
  let body: AsyncIterable<unknown[]>;
  if (count === 0) {
    const placeholder: unknown[] = output.columns?.length ? columns.map(() => null) : [NO_DATA];
    if (!output.columns?.length) columns = ['error'];
    body = (async function* () {
      yield placeholder;
    })();
  } else {
    body = (async function* () {
      for await (const row of readRows()) yield cellsOf(flatten(row));
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
