import { pgTable, text } from 'drizzle-orm/pg-core';
import { bytea, createdAt } from './columns.js';

/** BLOB_STORE=postgres: the bytes other tables point to by key (recording blocks). */
export const blobs = pgTable('blobs', {
  key: text('key').primaryKey(),
  content: bytea('content').notNull(),
  createdAt: createdAt(),
});
