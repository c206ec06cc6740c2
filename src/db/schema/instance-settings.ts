import { jsonb, pgTable, varchar } from 'drizzle-orm/pg-core';
import { updatedAt } from './columns.js';

/** Values every process sharing the database must agree on, such as the generated secret key. */
export const instanceSettings = pgTable('instance_settings', {
  key: varchar('key', { length: 100 }).primaryKey(),
  value: jsonb('value').$type<unknown>().notNull(),
  updatedAt: updatedAt(),
});
