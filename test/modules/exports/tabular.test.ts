import { describe, expect, it } from 'vitest';
import { chooseColumns, flatten, LIMIT_NOTE, neutraliseFormula, produceTabular, type Row } from '../../../src/modules/exports/producers/tabular.js';
import { exportFilename, slugify } from '../../../src/modules/exports/rules.js';

async function* rowsOf(rows: Row[]): AsyncGenerator<Row> {
  yield* rows;
}
const signal = new AbortController().signal;
const csvOf = async (rows: Row[], columns?: string[]) => (await produceTabular(rowsOf(rows), { format: 'csv', columns }, signal)).toString('utf8');

describe('tabular exports', () => {
  it('flattens nested objects and lists into dotted columns, grouped by their top-level name', async () => {
    expect([...flatten({ a: { b: 1, c: [1, { d: 2 }] }, e: null }).entries()]).toEqual([
      ['a.b', 1],
      ['a.c.0', 1],
      ['a.c.1.d', 2],
      ['e', null],
    ]);
    const csv = await csvOf([{ id: 1, properties: { x: 1 } }, { id: 2, other: true, properties: { y: 'a,b' } }]);
    expect(csv).toBe('id,properties.x,properties.y,other\r\n1,1,,\r\n2,,"a,b",True\r\n');
  });

  it('names columns and places values as flattening each row would, without flattening the rows again', async () => {
    // A dotted key and a nested one name the same column (the later value wins); a key that is an object in one row
    // and a plain value in another has both columns; a value JSON leaves out has an empty column.
    const rows: Row[] = [
      { 'a.b': 1, a: { b: 2 }, list: [{ x: 'p' }, 'q'], gone: undefined },
      { a: 'plain', list: [], n: Number.NaN },
      { list: { 0: { x: 'r' } }, a: { c: true } },
    ];
    expect(await csvOf(rows)).toBe('a.b,a,a.c,list.0.x,list.1,gone,n\r\n2,,,p,q,,\r\n,plain,,,,,\r\n,,True,r,,,\r\n');
    expect(await csvOf(rows, ['list', 'a.b', 'zzz'])).toBe('list.0.x,list.1,a.b,zzz\r\np,q,2,\r\n,,,\r\nr,,,\r\n');
    const json = (await produceTabular(rowsOf(rows), { format: 'json' }, signal)).toString('utf8');
    expect(json).toBe(JSON.stringify(rows));
  });

  it('honours export_context.columns: nested keys expanded, plain values kept, missing columns empty', () => {
    expect(chooseColumns(['id', 'person.name', 'person.email', 'person'], ['person', 'id', 'nope'])).toEqual(['person', 'person.name', 'person.email', 'id', 'nope']);
    expect(chooseColumns(['person.name'], ['person'])).toEqual(['person.name']);
  });

  it('neutralises cells a spreadsheet would run as formulas', async () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(neutraliseFormula(`${start}1`)).toBe(`'${start}1`);
    expect(neutraliseFormula('a=1')).toBe('a=1');
    expect(await csvOf([{ '=head': '=SUM(A1)', n: -1, t: '-1' }])).toBe(`'=head,n,t\r\n'=SUM(A1),-1,'-1\r\n`);
  });

  it('answers an empty result as PostHog does', async () => {
    expect(await csvOf([])).toBe('error\r\nNo data available or unable to format for export.\r\n');
    expect(await csvOf([], ['a', 'b'])).toBe('a,b\r\n,\r\n');
  });

  it('stops at 300,000 rows with a note row', { timeout: 60_000 }, async () => {
    async function* many(): AsyncGenerator<Row> {
      for (let i = 0; i < 300_005; i += 1) yield { i };
    }
    const lines = (await produceTabular(many(), { format: 'csv' }, signal)).toString('utf8').trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + 300_000 + 1);
    expect(lines.at(-2)).toBe('299999');
    expect(lines.at(-1)).toBe(LIMIT_NOTE);
  });

  it("names files with Django's slugify and the creation time", () => {
    expect(slugify(' Héllo, Wörld!  -- 2024_ ')).toBe('hello-world-2024');
    expect(slugify('__a  b__')).toBe('a-b');
    expect(exportFilename('text/csv', { filename: 'Q3 report' }, new Date('2021-08-25T22:09:14Z'))).toBe('q3-report-2021-08-25-220914.csv');
    expect(exportFilename('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', null, new Date('2021-08-25T22:09:14Z'))).toBe('export-2021-08-25-220914.xlsx');
  });
});
