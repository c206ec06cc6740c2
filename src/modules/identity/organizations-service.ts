import { MembershipLevel } from '../../db/enums.js';
import { PermissionDeniedError } from '../../lib/errors.js';
import type { PageParams } from '../../lib/wire.js';
import type { Actor } from './actor.js';
import type { CreateOrganizationInput, Organization, UpdateOrganizationInput } from './contract.js';
import type { AccountService } from './accounts.js';
import type { IdentityRepository, OrganizationWithLevel } from './repository.js';
import { toOrganization } from './serializers.js';

export interface OrganizationsServiceDeps {
  identity: IdentityRepository;
  accounts: Pick<AccountService, 'createOrganization'>;
  onIdentityChanged: () => void;
}

export const INSUFFICIENT_ORGANIZATION_LEVEL = 'Your organization access level is insufficient.';

export function createOrganizationsService({ identity, accounts, onIdentityChanged }: OrganizationsServiceDeps) {
  async function serialize(organization: OrganizationWithLevel): Promise<Organization> {
    const [teams, projects, memberCount] = await Promise.all([
      identity.listTeamsForOrganizations([organization.id]),
      identity.listProjectsForOrganizations([organization.id]),
      identity.countMembers(organization.id),
    ]);
    return toOrganization(organization, { teams, projects, memberCount });
  }

  return {
    async list(actor: Actor, page: PageParams): Promise<{ count: number; results: Organization[] }> {
      const all = await identity.listOrganizationsForUser(actor.user.id);
      const results = await Promise.all(all.slice(page.offset, page.offset + page.limit).map(serialize));
      return { count: all.length, results };
    },

    retrieve: serialize,

    async create(actor: Actor, input: CreateOrganizationInput): Promise<Organization> {
      const { organization } = await accounts.createOrganization(actor.user, input.name);
      onIdentityChanged();
      return serialize({ ...organization, membershipLevel: MembershipLevel.owner });
    },

    async update(actor: Actor, organization: OrganizationWithLevel, input: UpdateOrganizationInput): Promise<Organization> {
      if ((organization.membershipLevel ?? 0) < MembershipLevel.admin) throw new PermissionDeniedError(INSUFFICIENT_ORGANIZATION_LEVEL);
      await identity.updateOrganization(organization.id, {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.members_can_use_personal_api_keys !== undefined && {
          membersCanUsePersonalApiKeys: input.members_can_use_personal_api_keys,
        }),
        ...(input.allow_publicly_shared_resources !== undefined && { allowPubliclySharedResources: input.allow_publicly_shared_resources }),
      });
      onIdentityChanged();
      const updated = await identity.findOrganizationForUser(organization.id, actor.user.id);
      return serialize(updated ?? organization);
    },
  };
}

export type OrganizationsService = ReturnType<typeof createOrganizationsService>;
