import { UNSUPPORTED_KEY_ACCESS } from '../../access/route-access.js';
import { isValidScope } from '../../access/scopes.js';
import type { PersonalApiKeyRow } from '../../db/schema/index.js';
import { NotFoundError, PermissionDeniedError, ValidationError } from '../../lib/errors.js';
import { hashApiKey, isUuid, maskKeyValue, newPersonalApiKeyValue, randomToken } from '../../lib/ids.js';
import { isoZ } from '../../lib/time.js';
import type {
  CreatePersonalApiKeyInput,
  PersonalApiKey,
  UpdatePersonalApiKeyInput,
} from './contract.js';
import type { Actor, AdminService, IdentityModule } from '../identity/index.js';
import type { ApiKeysRepository } from './repository.js';

export const MAX_API_KEYS_PER_USER = 10;

export interface ApiKeysServiceDeps {
  apiKeys: ApiKeysRepository;
  identity: Pick<IdentityModule['directory'], 'listOrganizationsForUser' | 'listTeamsForOrganizations'>;
  users: Pick<AdminService, 'requireUser'>;
  onKeysChanged: () => void;
}

function toPersonalApiKey(row: PersonalApiKeyRow, value: string | null = null): PersonalApiKey {
  return {
    id: row.id,
    label: row.label,
    value,
    mask_value: row.maskValue,
    created_at: isoZ(row.createdAt),
    last_used_at: isoZ(row.lastUsedAt),
    user_id: row.userId,
    scopes: row.scopes && row.scopes.length > 0 ? row.scopes : ['*'],
    scoped_teams: row.scopedTeams,
    scoped_organizations: row.scopedOrganizations,
    last_rolled_at: isoZ(row.lastRolledAt),
  };
}

/** PostHog's PersonalAPIKeySerializer rules and PersonalAPIKeyViewSet behaviour. */
export function createApiKeysService({ apiKeys, identity, users, onKeysChanged }: ApiKeysServiceDeps) {
  async function validateTargets(actor: Actor, input: UpdatePersonalApiKeyInput): Promise<void> {
    for (const scope of input.scopes ?? []) {
      if (!isValidScope(scope)) throw new ValidationError(`Invalid scope: ${scope}`, 'scopes');
    }
    if (!input.scoped_teams?.length && !input.scoped_organizations?.length) return;
    const organizations = await identity.listOrganizationsForUser(actor.user.id);
    if (input.scoped_teams?.length) {
      const teams = new Set((await identity.listTeamsForOrganizations(organizations.map((o) => o.id))).map((t) => t.id));
      if (!input.scoped_teams.every((id) => teams.has(id))) {
        throw new ValidationError('You must be a member of all teams that you are scoping the key to.', 'scoped_teams');
      }
    }
    if (input.scoped_organizations?.length) {
      const memberOf = new Set(organizations.map((o) => o.id));
      for (const id of input.scoped_organizations) {
        if (!isUuid(id)) {
          throw new ValidationError('Invalid organization UUID', 'scoped_organizations');
        }
        if (!memberOf.has(id.toLowerCase())) {
          throw new ValidationError('You must be a member of all organizations that you are scoping the key to.', 'scoped_organizations');
        }
      }
    }
  }

  async function find(actor: Actor, id: string): Promise<PersonalApiKeyRow> {
    const row = await apiKeys.findForUser(id, actor.user.id);
    if (!row) throw new NotFoundError();
    return row;
  }

  async function list(actor: Actor): Promise<PersonalApiKey[]> {
    return (await apiKeys.listForUser(actor.user.id)).map((row) => toPersonalApiKey(row));
  }

  async function create(actor: Actor, input: CreatePersonalApiKeyInput): Promise<PersonalApiKey> {
    await validateTargets(actor, input);
    if ((await apiKeys.countForUser(actor.user.id)) >= MAX_API_KEYS_PER_USER) {
      throw new ValidationError(
        `You can only have ${MAX_API_KEYS_PER_USER} personal API keys. Remove an existing key before creating a new one.`,
      );
    }
    const value = newPersonalApiKeyValue();
    const row = await apiKeys.insert({
      id: randomToken(32),
      userId: actor.user.id,
      label: input.label,
      secureValue: hashApiKey(value),
      maskValue: maskKeyValue(value),
      scopes: input.scopes,
      scopedTeams: input.scoped_teams ?? [],
      scopedOrganizations: input.scoped_organizations?.map((id) => id.toLowerCase()) ?? [],
    });
    return toPersonalApiKey(row, value);
  }

  /** The user with this email, acting for themselves from the command line. */
  const byEmail = async (email: string): Promise<Actor> => ({ user: await users.requireUser(email), key: null, session: null });

  return {
    list,
    create,
    listForEmail: async (email: string) => list(await byEmail(email)),
    createForEmail: async (email: string, input: CreatePersonalApiKeyInput) => create(await byEmail(email), input),

    /**
     * With key authentication a key may read only itself, by id or @current; the lookup runs first, so another
     * user's key id is 404 and only the caller's other keys are 403, as PostHog's get_object then has_object_permission.
     */
    async retrieve(actor: Actor, id: string): Promise<PersonalApiKey> {
      if (actor.key) {
        if (id === '@current') return toPersonalApiKey(await find(actor, actor.key.id));
        const row = await find(actor, id);
        if (row.id !== actor.key.id) throw new PermissionDeniedError(UNSUPPORTED_KEY_ACCESS);
        return toPersonalApiKey(row);
      }
      if (id === '@current') throw new NotFoundError();
      return toPersonalApiKey(await find(actor, id));
    },

    async update(actor: Actor, id: string, input: UpdatePersonalApiKeyInput): Promise<PersonalApiKey> {
      await find(actor, id);
      await validateTargets(actor, input);
      const row = await apiKeys.update(id, actor.user.id, {
        ...(input.label !== undefined && { label: input.label }),
        ...(input.scopes !== undefined && { scopes: input.scopes }),
        ...(input.scoped_teams !== undefined && { scopedTeams: input.scoped_teams }),
        ...(input.scoped_organizations !== undefined && {
          scopedOrganizations: input.scoped_organizations.map((o) => o.toLowerCase()),
        }),
      });
      onKeysChanged();
      return toPersonalApiKey(row!);
    },

    /** A new value for the same key: the old one stops working at once (in every process within the auth cache time). */
    async roll(actor: Actor, id: string): Promise<PersonalApiKey> {
      await find(actor, id);
      const value = newPersonalApiKeyValue();
      const row = await apiKeys.roll(id, actor.user.id, { secureValue: hashApiKey(value), maskValue: maskKeyValue(value) });
      onKeysChanged();
      return toPersonalApiKey(row!, value);
    },

    async delete(actor: Actor, id: string): Promise<void> {
      if (!(await apiKeys.delete(id, actor.user.id))) throw new NotFoundError();
      onKeysChanged();
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
