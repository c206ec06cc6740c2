import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, smallint, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.js';
import { users } from './users.js';

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey(),
  name: varchar('name', { length: 64 }).notNull(),
  slug: varchar('slug', { length: 48 }).notNull().unique(),
  logoMediaId: uuid('logo_media_id'),
  membersCanUsePersonalApiKeys: boolean('members_can_use_personal_api_keys').notNull().default(true),
  isActive: boolean('is_active').notNull().default(true),
  isNotActiveReason: varchar('is_not_active_reason', { length: 200 }),
  availableProductFeatures: jsonb('available_product_features').$type<unknown[]>().notNull().default(sql`'[]'::jsonb`),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const MembershipLevel = { member: 1, admin: 8, owner: 15 } as const;
export type MembershipLevelValue = (typeof MembershipLevel)[keyof typeof MembershipLevel];

export const organizationMemberships = pgTable(
  'organization_memberships',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    level: smallint('level').$type<MembershipLevelValue>().notNull().default(MembershipLevel.member),
    joinedAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('organization_memberships_org_user').on(t.organizationId, t.userId), index('organization_memberships_user').on(t.userId)],
);

