import { sql } from 'drizzle-orm';
import { boolean, jsonb, pgTable, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.js';

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey(),
  name: varchar('name', { length: 64 }).notNull(),
  slug: varchar('slug', { length: 48 }).notNull().unique(),
  logoMediaId: uuid('logo_media_id'),
  membersCanUsePersonalApiKeys: boolean('members_can_use_personal_api_keys').notNull().default(true),
  allowPubliclySharedResources: boolean('allow_publicly_shared_resources').notNull().default(true),
  isActive: boolean('is_active').notNull().default(true),
  isNotActiveReason: varchar('is_not_active_reason', { length: 200 }),
  availableProductFeatures: jsonb('available_product_features').$type<unknown[]>().notNull().default(sql`'[]'::jsonb`),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export type OrganizationRow = typeof organizations.$inferSelect;
