import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createDeflate, deflateSync } from 'node:zlib';

/**
 * A small PDF 1.4 writer for application/pdf exports (a Burrow extension: PostHog accepts the format and never
 * produces it). Two kinds of document, both written straight to a file with flat memory:
 *
 * - imageToPdf: one page holding an image (a heatmap PNG, a recording frame), its pixels an RGB image XObject
 *   compressed with FlateDecode as sharp decodes them, at 96 dpi (1 px = 0.75 pt), scaled down only past PDF's
 *   14,400-pt page limit;
 * - PdfTable: a table of text on landscape A4 pages in Helvetica (WinAnsiEncoding), TABLE_ROWS_PER_PAGE rows a page,
 *   the header row (bold) repeated at the top of each, a cell too long for its column cut with "...", characters
 *   WinAnsi has no place for printed as "?". Column widths are chosen once, from the header and the first page's
 *   rows (see columnWidths). Each page's content is compressed on its own.
 */

/** PDF's largest page side (Acrobat's implementation limit), in points. */
const MAX_PAGE_PT = 14_400;
/** CSS pixels to points: an image is placed at 96 dpi, as a browser prints it. */
const PT_PER_PX = 0.75;

/** Writes numbered objects to a file, remembering where each starts for the cross-reference table. */
class PdfFile {
  private offset = 0;
  private readonly offsets: number[] = [];
  private nextObject = 1;

  private constructor(private readonly out: WriteStream) {}

  static async open(file: string): Promise<PdfFile> {
    const pdf = new PdfFile(createWriteStream(file));
    // The binary comment tells transfer tools the file is not text.
    await pdf.write(Buffer.concat([Buffer.from('%PDF-1.4\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n')]));
    return pdf;
  }

  /** A number for an object written later (one that others refer to first). */
  reserve(): number {
    return this.nextObject++;
  }

  async write(chunk: Buffer | string): Promise<void> {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    this.offset += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  async object(id: number, body: string): Promise<void> {
    this.offsets[id] = this.offset;
    await this.write(`${id} 0 obj\n${body}\nendobj\n`);
  }

  async stream(id: number, dict: string, data: Buffer): Promise<void> {
    this.offsets[id] = this.offset;
    await this.write(`${id} 0 obj\n<<${dict} /Length ${data.length}>>\nstream\n`);
    await this.write(data);
    await this.write('\nendstream\nendobj\n');
  }

  /** A stream whose bytes come from `chunks`, its length written afterwards as an object of its own. */
  async streamFrom(id: number, dict: string, chunks: AsyncIterable<Buffer>): Promise<void> {
    const lengthId = this.reserve();
    this.offsets[id] = this.offset;
    await this.write(`${id} 0 obj\n<<${dict} /Length ${lengthId} 0 R>>\nstream\n`);
    let length = 0;
    for await (const chunk of chunks) {
      length += chunk.length;
      await this.write(chunk);
    }
    await this.write('\nendstream\nendobj\n');
    await this.object(lengthId, String(length));
  }

  /** The cross-reference table and trailer, then the file is closed. */
  async finish(rootId: number): Promise<void> {
    const xref = this.offset;
    const count = this.nextObject;
    let table = `xref\n0 ${count}\n0000000000 65535 f \n`;
    for (let id = 1; id < count; id++) table += `${String(this.offsets[id] ?? 0).padStart(10, '0')} 00000 ${this.offsets[id] === undefined ? 'f' : 'n'} \n`;
    await this.write(`${table}trailer\n<</Size ${count} /Root ${rootId} 0 R>>\nstartxref\n${xref}\n%%EOF\n`);
    this.out.end();
    await once(this.out, 'finish');
  }

  /** Closes the file without finishing it (after a failure; the caller removes it). */
  abort(): void {
    this.out.destroy();
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * A one-page PDF of an image file (PNG, JPEG: anything sharp reads): the image at 96 dpi on a page of its size,
 * transparency flattened onto white. Streams the pixels through zlib into the file.
 */
export async function imageToPdf(imageFile: string, pdfFile: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  const { width, height } = await sharp(imageFile).metadata();
  if (!width || !height) throw new Error(`Cannot read the size of ${imageFile}`);
  const scale = Math.min(PT_PER_PX, MAX_PAGE_PT / Math.max(width, height));
  const [pageWidth, pageHeight] = [width * scale, height * scale];
  const pixels = sharp(imageFile).flatten({ background: '#ffffff' }).toColourspace('srgb').raw();
  const pdf = await PdfFile.open(pdfFile);
  try {
    const [catalog, pages, page, content, image] = [pdf.reserve(), pdf.reserve(), pdf.reserve(), pdf.reserve(), pdf.reserve()];
    await pdf.object(catalog, `<</Type /Catalog /Pages ${pages} 0 R>>`);
    await pdf.object(pages, `<</Type /Pages /Kids [${page} 0 R] /Count 1>>`);
    await pdf.object(
      page,
      `<</Type /Page /Parent ${pages} 0 R /MediaBox [0 0 ${fmt(pageWidth)} ${fmt(pageHeight)}] /Resources <</XObject <</Im0 ${image} 0 R>>>> /Contents ${content} 0 R>>`,
    );
    await pdf.stream(content, '', Buffer.from(`q ${fmt(pageWidth)} 0 0 ${fmt(pageHeight)} 0 0 cm /Im0 Do Q`));
    await pdf.streamFrom(
      image,
      `/Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode`,
      pixels.pipe(createDeflate()),
    );
    await pdf.finish(catalog);
  } catch (error) {
    pdf.abort();
    throw error;
  }
}

/** Rows of a table page, under its header row. */
export const TABLE_ROWS_PER_PAGE = 40;
const PAGE = { width: 842, height: 595 };
const MARGIN = 36;
const FONT_SIZE = 8;
const LINE = 12;
const CELL_PADDING = 4;
/** The widest a column gets when there is room: longer text is cut rather than taking the page. */
const MAX_COLUMN = 300;

// Advance widths (1/1000 em) of the printable ASCII characters, space to ~, from Adobe's Helvetica AFM files.
// prettier-ignore
const HELVETICA = [278,278,355,556,556,889,667,191,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,278,278,584,584,584,556,1015,667,667,722,722,667,611,778,722,278,500,667,556,833,722,778,667,778,722,667,611,722,667,944,667,667,611,278,278,278,469,556,333,556,556,500,556,556,278,556,556,222,222,500,222,833,556,556,556,556,333,500,278,556,500,722,500,500,500,334,260,334,584];
// prettier-ignore
const HELVETICA_BOLD = [278,333,474,556,556,889,722,238,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,333,333,584,584,584,611,975,722,722,722,722,667,611,778,722,278,556,722,611,833,722,778,667,778,722,667,611,722,667,944,667,667,611,333,278,333,584,556,333,556,611,556,611,556,333,611,611,278,278,556,278,889,611,611,611,611,389,556,333,611,556,778,556,556,500,389,280,389,584];
/** Outside ASCII the widths are not in the tables: an upper bound, so a cut cell never runs into the next. */
const WIDE = 1000;

/** WinAnsiEncoding's codes 128-159 that are not Latin-1: the Unicode characters they stand for. */
const WIN_ANSI_EXTRA = new Map<number, number>(
  [
    [0x20ac, 0x80], [0x201a, 0x82], [0x0192, 0x83], [0x201e, 0x84], [0x2026, 0x85], [0x2020, 0x86], [0x2021, 0x87], [0x02c6, 0x88],
    [0x2030, 0x89], [0x0160, 0x8a], [0x2039, 0x8b], [0x0152, 0x8c], [0x017d, 0x8e], [0x2018, 0x91], [0x2019, 0x92], [0x201c, 0x93],
    [0x201d, 0x94], [0x2022, 0x95], [0x2013, 0x96], [0x2014, 0x97], [0x02dc, 0x98], [0x2122, 0x99], [0x0161, 0x9a], [0x203a, 0x9b],
    [0x0153, 0x9c], [0x017e, 0x9e], [0x0178, 0x9f],
  ] as const,
);

/** A character's WinAnsi code: control characters (tabs, newlines) become spaces, what WinAnsi lacks "?". */
function winAnsi(codePoint: number): number {
  if (codePoint < 0x20 || codePoint === 0x7f) return 0x20;
  if (codePoint < 0x7f || (codePoint >= 0xa0 && codePoint <= 0xff)) return codePoint;
  return WIN_ANSI_EXTRA.get(codePoint) ?? 0x3f;
}

const widthOf = (code: number, bold: boolean) => (code >= 0x20 && code <= 0x7e ? (bold ? HELVETICA_BOLD : HELVETICA)[code - 0x20]! : WIDE);

/** Text's width in points at FONT_SIZE. */
const textWidth = (text: string, bold: boolean) => (Array.from(text).reduce((sum, c) => sum + widthOf(winAnsi(c.codePointAt(0)!), bold), 0) * FONT_SIZE) / 1000;

/**
 * Each column's width across `total`: what its header and the sample rows need (at most MAX_COLUMN), plus an even
 * part of the room left over (later rows may be wider than the sample). When the columns need more than `total`, the
 * narrow ones keep theirs and the wide ones share the rest evenly.
 */
export function columnWidths(header: string[], sample: string[][], total: number): number[] {
  const needed = header.map((name, i) =>
    Math.min(MAX_COLUMN, Math.max(textWidth(name, true), ...sample.map((row) => textWidth(row[i] ?? '', false))) + 2 * CELL_PADDING),
  );
  const spare = total - needed.reduce((a, b) => a + b, 0);
  if (spare >= 0) return needed.map((width) => width + spare / Math.max(1, needed.length));
  const widths = [...needed];
  let wide = needed.map((_, i) => i);
  let left = total;
  for (;;) {
    const share = left / Math.max(1, wide.length);
    const narrow = wide.filter((i) => needed[i]! <= share);
    if (narrow.length === 0 || narrow.length === wide.length) {
      if (narrow.length === 0) for (const i of wide) widths[i] = share;
      return widths;
    }
    for (const i of narrow) left -= needed[i]!;
    wide = wide.filter((i) => needed[i]! > share);
  }
}

/** The text as WinAnsi codes, cut with "..." to fit `maxWidth` points at FONT_SIZE. */
export function fitText(text: string, maxWidth: number, bold = false): number[] {
  const codes = Array.from(text, (c) => winAnsi(c.codePointAt(0)!));
  const limit = (maxWidth * 1000) / FONT_SIZE;
  let total = 0;
  for (const code of codes) total += widthOf(code, bold);
  if (total <= limit) return codes;
  const dots = 3 * widthOf(0x2e, bold);
  let used = 0;
  let kept = 0;
  while (kept < codes.length && used + widthOf(codes[kept]!, bold) + dots <= limit) used += widthOf(codes[kept++]!, bold);
  return [...codes.slice(0, kept), 0x2e, 0x2e, 0x2e];
}

/** A PDF string literal of WinAnsi codes: ( ) \ escaped, everything outside printable ASCII as an octal escape. */
export function pdfString(codes: number[]): string {
  let out = '(';
  for (const code of codes) {
    if (code === 0x28 || code === 0x29 || code === 0x5c) out += `\\${String.fromCharCode(code)}`;
    else if (code >= 0x20 && code <= 0x7e) out += String.fromCharCode(code);
    else out += `\\${code.toString(8).padStart(3, '0')}`;
  }
  return `${out})`;
}

/**
 * A paginated table written to a PDF file as rows arrive: addRow() fills the current page and starts the next every
 * TABLE_ROWS_PER_PAGE rows; note() adds a line across the whole table (the row limit's note) on the last page.
 */
export class PdfTable {
  private readonly pageIds: number[] = [];
  private rows: string[][] = [];
  private notes: string[] = [];
  private widths: number[] | undefined;

  private constructor(
    private readonly pdf: PdfFile,
    private readonly ids: { catalog: number; pages: number; regular: number; bold: number },
    private readonly header: string[],
  ) {}

  static async open(file: string, header: string[]): Promise<PdfTable> {
    const pdf = await PdfFile.open(file);
    const ids = { catalog: pdf.reserve(), pages: pdf.reserve(), regular: pdf.reserve(), bold: pdf.reserve() };
    await pdf.object(ids.catalog, `<</Type /Catalog /Pages ${ids.pages} 0 R>>`);
    await pdf.object(ids.regular, '<</Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding>>');
    await pdf.object(ids.bold, '<</Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding>>');
    return new PdfTable(pdf, ids, header);
  }

  async addRow(cells: string[]): Promise<void> {
    this.rows.push(cells);
    if (this.rows.length >= TABLE_ROWS_PER_PAGE) await this.flushPage();
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Writes the last page (one with only the header when there were no rows), the page tree and the trailer. */
  async finish(): Promise<void> {
    if (this.rows.length > 0 || this.notes.length > 0 || this.pageIds.length === 0) await this.flushPage();
    const { pdf, ids } = this;
    await pdf.object(ids.pages, `<</Type /Pages /Kids [${this.pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${this.pageIds.length}>>`);
    await pdf.finish(ids.catalog);
  }

  abort(): void {
    this.pdf.abort();
  }

  private async flushPage(): Promise<void> {
    const { pdf, ids } = this;
    const [pageId, contentId] = [pdf.reserve(), pdf.reserve()];
    this.pageIds.push(pageId);
    const top = PAGE.height - MARGIN;
    const right = PAGE.width - MARGIN;
    const ops: string[] = [];
    const text = (font: 'F1' | 'F2', x: number, y: number, codes: number[]) => ops.push(`BT /${font} ${FONT_SIZE} Tf ${fmt(x)} ${fmt(y)} Td ${pdfString(codes)} Tj ET`);
    const rule = (y: number, grey: number) => ops.push(`${grey} G ${MARGIN} ${fmt(y)} m ${right} ${fmt(y)} l S`);
    const widths = (this.widths ??= columnWidths(this.header, this.rows, right - MARGIN));
    const lefts = widths.map((_, i) => MARGIN + widths.slice(0, i).reduce((a, b) => a + b, 0) + CELL_PADDING);
    const lineOf = (index: number) => top - (index + 1) * LINE + 3;
    const cells = (row: string[], line: number, bold: boolean) =>
      row.forEach((cell, i) => text(bold ? 'F2' : 'F1', lefts[i]!, lineOf(line), fitText(cell, widths[i]! - 2 * CELL_PADDING, bold)));

    ops.push('0.5 w');
    cells(this.header, 0, true);
    rule(top - LINE, 0);
    this.rows.forEach((row, r) => {
      cells(row, r + 1, false);
      rule(top - (r + 2) * LINE, 0.85);
    });
    this.notes.forEach((note, n) => text('F1', MARGIN + CELL_PADDING, lineOf(this.rows.length + 1 + n), fitText(note, right - MARGIN - 2 * CELL_PADDING)));
    text('F1', MARGIN, MARGIN - 14, fitText(`Page ${this.pageIds.length}`, 100));

    await pdf.stream(contentId, ' /Filter /FlateDecode', deflateSync(Buffer.from(ops.join('\n'), 'latin1')));
    await pdf.object(
      pageId,
      `<</Type /Page /Parent ${ids.pages} 0 R /MediaBox [0 0 ${PAGE.width} ${PAGE.height}] /Resources <</Font <</F1 ${ids.regular} 0 R /F2 ${ids.bold} 0 R>>>> /Contents ${contentId} 0 R>>`,
    );
    this.rows = [];
    this.notes = [];
  }
}
