import { createHash } from 'node:crypto';

/** A prepared statement as a repository runs it: the placeholders' values in, the rows out. */
export interface Statement<Row> {
  execute(values: Record<string, unknown>): Promise<Row[]>;
}

/**
 * Prepared statements for a query whose SQL varies with its shape (which filters are present, the order) but not with
 * the values bound to it: one statement per shape, prepared on first use and named after a hash of the shape, so that
 * every repository in the process gives a shape the same name and the same text (node-postgres refuses one name for
 * two texts on a connection). Preparing spares drizzle building the SQL and Postgres planning it on every request;
 * the caller's filters and orders bound the number of shapes.
 */
export function preparedByShape<Statement>(prefix: string): (shape: string, prepare: (name: string) => Statement) => Statement {
  const statements = new Map<string, Statement>();
  return (shape, prepare) => {
    let statement = statements.get(shape);
    if (statement === undefined) {
      statement = prepare(`${prefix}_${createHash('sha256').update(shape).digest('hex').slice(0, 16)}`);
      statements.set(shape, statement);
    }
    return statement;
  };
}

/** The statements of a page: its rows, each as one JSON value carrying the total of the whole list, and the total alone. */
export interface PageStatements<Row> {
  rows: Statement<{ row: Row; total: number }>;
  count: Statement<{ n: number }>;
}

/**
 * A page and its total in one round trip: the rows statement selects the total as an uncorrelated scalar subquery,
 * which Postgres evaluates once, beside the page's top rows. An empty page says nothing about the total when it lies
 * past the end: only then is the count statement run.
 */
export async function pageWithTotal<Row>(
  statements: PageStatements<Row>,
  values: Record<string, unknown>,
  page: { limit: number; offset: number },
): Promise<{ rows: Row[]; count: number }> {
  const found = await statements.rows.execute({ ...values, limit: page.limit, offset: page.offset });
  if (found.length > 0) return { rows: found.map((r) => r.row), count: found[0]!.total };
  if (page.offset === 0) return { rows: [], count: 0 };
  const [total] = await statements.count.execute(values);
  return { rows: [], count: total?.n ?? 0 };
}
