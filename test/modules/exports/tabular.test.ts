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
