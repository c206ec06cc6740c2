import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.js';
import type { PersonalApiKeyRow, UserRow } from '../../db/schema/index.js';
import { AuthenticationFailedError, NotFoundError, PermissionDeniedError, ValidationError } from '../../lib/errors.js';
import { hashApiKey, sha256Hex } from '../../lib/ids.js';
import { decodeJwt, JwtAudience } from '../../lib/jwt.js';
import type { SharedRedis } from '../../lib/redis.js';
import { epochMs } from '../../lib/time.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import type { ApiKeysModule } from '../api-keys/index.js';
import {
  type Actor,
  type IdentityModule,
  type OrganizationWithLevel,
  SENSITIVE_ACTIONS_AGE_SECONDS,
  type TeamAccess,
  UNUSABLE_PASSWORD,
  verifyPassword,
} from '../identity/index.js';
import { createLoginFailures } from './login-failures.js';

export type KeySource = 'Authorization header' | 'body' | 'query string';

export interface AuthServiceDeps {
  identity: Pick<
    IdentityModule['directory'],
    'findUserById' | 'findUserByEmail' | 'findTeamAccess' | 'findOrganizationForUser' | 'listTeamsForOrganizations' | 'listOrganizationsForUser' | 'updateUser'
  >;
  apiKeys: ApiKeysModule['lookup'];
  sessions: Pick<IdentityModule['sessions'], 'insert' | 'findActive' | 'delete'>;
  config: Pick<Config, 'authCacheMs' | 'sessionCookieAgeSeconds'>;
  /** Shares the failed-login counters between processes when set. */
  redis: SharedRedis | null;
  /** The instance secret, which signs the export jobs' internal credentials. */
  signingKey: () => Promise<string>;
}

export function createAuthService({ identity, apiKeys, sessions, config, redis, signingKey }: AuthServiceDeps) {
  const keyCache = new TtlCache<string, { key: PersonalApiKeyRow; user: UserRow } | null>(config.authCacheMs);
  const teamCache = new TtlCache<string, TeamAccess | null>(config.authCacheMs);
  const loginFailures = createLoginFailures(redis);

  async function resolveCurrentTeamId(user: UserRow): Promise<number | null> {
    if (user.currentTeamId !== null) return user.currentTeamId;
    const organizations = user.currentOrganizationId
      ? [user.currentOrganizationId]
      : (await identity.listOrganizationsForUser(user.id)).map((o) => o.id);
    const [team] = await identity.listTeamsForOrganizations(organizations);
    if (!team) return null;
    await identity.updateUser(user.id, { currentTeamId: team.id, currentOrganizationId: team.organizationId });
    return team.id;
  }

  return {
    /** Looks a presented key up by its hash; unknown keys and keys of inactive users are a 401 naming the source. */
    async authenticateKey(value: string, source: KeySource): Promise<Actor> {
      const secureValue = hashApiKey(value);
      const found = await keyCache.getOrLoad(secureValue, async () => (await apiKeys.findActiveBySecureValue(secureValue)) ?? null);
      if (!found) throw new AuthenticationFailedError(`Personal API key found in request ${source} is invalid.`);
      const { key } = found;
      if (key.lastUsedAt === null || Date.now() - epochMs(key.lastUsedAt) > 3600_000) {
        const lastUsedAt = await apiKeys.touchLastUsed(key.id);
        if (lastUsedAt) found.key = { ...key, lastUsedAt };
      }
      return { user: found.user, key: found.key, session: null };
    },

    async authenticateSession(token: string): Promise<Actor | null> {
      const session = await sessions.findActive(sha256Hex(token));
      if (!session) return null;
      const user = await identity.findUserById(session.userId);
      return user?.isActive ? { user, key: null, session } : null;
    },

    /**
     * An export job's internal credential (lib/jwt.ts JwtAudience.exportInternal): the user it was signed for, while
     * the token is valid and the user active; null for anything else. The caller allows it on GET requests only.
     */
    async authenticateInternalToken(jwt: string): Promise<Actor | null> {
      const payload = decodeJwt(await signingKey(), jwt, JwtAudience.exportInternal);
      if (!payload || typeof payload.user_id !== 'number') return null;
      const user = await identity.findUserById(payload.user_id);
      return user?.isActive ? { user, key: null, session: null } : null;
    },

    async startSession(userId: number): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      await sessions.insert({ id: sha256Hex(token), userId, ttlSeconds: config.sessionCookieAgeSeconds });
      return token;
    },

    async endSession(token: string): Promise<void> {
      await sessions.delete(sha256Hex(token));
    },

    /** Email and password to a user; every failure is the same message, as PostHog's LoginSerializer. */
    async checkCredentials(email: string, password: string): Promise<UserRow> {
      const normalized = email.toLowerCase();
      if (await loginFailures.isLockedOut(normalized)) {
        throw new PermissionDeniedError('Too many failed login attempts. Please try again in 10 minutes.', 'too_many_failed_attempts');
      }
      const user = await identity.findUserByEmail(normalized);
      const valid = await verifyPassword(password, user?.passwordHash ?? UNUSABLE_PASSWORD);
      if (!user || !valid || !user.isActive) {
        await loginFailures.recordFailure(normalized);
        throw new ValidationError('Invalid email or password.', null, 'invalid_credentials');
      }
      await loginFailures.clear(normalized);
      return user;
    },

    /** A team id or @current to the team and the caller's membership; 404 "Project not found." otherwise. */
    async resolveTeam(actor: Actor, raw: string): Promise<TeamAccess> {
      const teamId = raw === '@current' ? await resolveCurrentTeamId(actor.user) : /^\d+$/.test(raw) ? Number(raw) : null;
      if (teamId === null || teamId > 2_147_483_647) throw new NotFoundError('Project not found.');
      const access = await teamCache.getOrLoad(`${actor.user.id}:${teamId}`, async () => (await identity.findTeamAccess(teamId, actor.user.id)) ?? null);
      if (!access) throw new NotFoundError('Project not found.');
      return access;
    },

    /** An organization id or @current (null means the current one) the caller belongs to. */
    async resolveOrganization(actor: Actor, raw: string | null): Promise<OrganizationWithLevel> {
      const id = raw === null || raw === '@current' ? actor.user.currentOrganizationId : raw;
      if (id === null) throw new NotFoundError('Organization not found.');
      const organization = /^[0-9a-f-]{36}$/i.test(id) ? await identity.findOrganizationForUser(id, actor.user.id) : undefined;
      if (!organization) throw new NotFoundError(raw === null || raw === '@current' ? 'Organization not found.' : 'Not found.');
      return organization;
    },

    isRecentlyAuthenticated(actor: Actor): boolean {
      if (!actor.session) return true;
      return Date.now() - epochMs(actor.session.authenticatedAt) <= SENSITIVE_ACTIONS_AGE_SECONDS * 1000;
    },

    /** Writes in this process take effect at once; other processes see them within AUTH_CACHE_SECONDS. */
    invalidateCaches(): void {
      keyCache.clear();
      teamCache.clear();
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
