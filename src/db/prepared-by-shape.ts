import { createHash } from 'node:crypto';
import type { Query, SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';

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

const dialect = new PgDialect();

export type NamedStatement<Row> = (db: Db, values: Record<string, unknown>) => Promise<Row[]>;

/**
 * A raw SQL statement (its values as placeholders) prepared under `name` on the session that runs it, the pool's or a
 * transaction's: its text is built once per process, and Postgres parses and plans it once per connection.
 */
export function namedStatement<Row>(name: string, statement: () => SQL): NamedStatement<Row> {
  let query: Query | undefined;
  return async (db, values) => {
    query ??= dialect.sqlToQuery(statement());
    const prepared = db._.session.prepareQuery<{ execute: { rows: Row[] }; all: unknown; values: unknown }>(query, undefined, name, false);
    return (await prepared.execute(values)).rows;
  };
}
