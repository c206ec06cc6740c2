import type { MembershipLevelValue } from '../db/enums.js';
import type { OrganizationRow, TeamRow, UserRow } from '../db/schema/index.js';

/** What the commands print. */

export const userOut = (user: UserRow) => ({
  id: user.id,
  uuid: user.uuid,
  email: user.email,
  first_name: user.firstName,
  last_name: user.lastName,
  is_staff: user.isStaff,
  is_active: user.isActive,
  has_password: user.passwordHash !== null,
});

/** membership_level is the user's level (1 member, 8 admin, 15 owner), where the output is about a user. */
export const organizationOut = (organization: OrganizationRow, membershipLevel?: MembershipLevelValue | null) => ({
  id: organization.id,
  name: organization.name,
  slug: organization.slug,
  ...(membershipLevel !== undefined && { membership_level: membershipLevel }),
});

/** A project shares its id with its first team; api_token is the public project token, never the secret one. */
export const projectOut = (team: TeamRow) => ({
  id: team.projectId,
  uuid: team.uuid,
  name: team.name,
  organization: team.organizationId,
  api_token: team.apiToken,
});
