import { customType, timestamp } from 'drizzle-orm/pg-core';

/** Timestamps travel as Postgres' own text so microseconds survive (PostHog prints six digits). */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string', precision: 6 });

export const createdAt = () => timestamptz('created_at').notNull().defaultNow();
export const updatedAt = () => timestamptz('updated_at').notNull().defaultNow();

/** Bytes (JPEGs, compressed recording blocks); node-postgres answers a Buffer and PGlite a Uint8Array, both become a Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});
