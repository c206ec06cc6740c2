import { index, integer, pgTable, smallint, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { MembershipLevel, type MembershipLevelValue } from '../enums.js';
import { createdAt, updatedAt } from './columns.js';
import { organizations } from './organizations.js';
import { users } from './users.js';

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

