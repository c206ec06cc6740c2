import { customType, integer, timestamp } from 'drizzle-orm/pg-core';

/** Timestamps travel as Postgres' own text so microseconds survive (PostHog prints six digits). */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string', precision: 6 });

export const createdAt = () => timestamptz('created_at').notNull().defaultNow();
export const updatedAt = () => timestamptz('updated_at').notNull().defaultNow();

/** Bytes (JPEGs, compressed recording blocks); node-postgres answers a Buffer and PGlite a Uint8Array, both become a Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/**
 * The team of a row capture writes (events, heatmap points and pages, sessions, recordings): no foreign key to teams.
 * A key's check locks the team's row for every row inserted, and capture's two kinds of statements (events and
 * recording blocks) then share that lock through a multixact: at 10 connections bench/capture lost a fifth of its
 * throughput to it. A team always exists when capture resolves its token; the trigger `teams_delete_capture_rows`
 * (migration 0017) deletes these rows with their team, as the key's cascade did.
 */
export const captureTeamId = () => integer('team_id').notNull();
