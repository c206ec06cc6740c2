import { PermissionDeniedError } from '../lib/errors.js';
import type { PersonalApiKeyRow } from '../db/schema/index.js';
import { isLegacyScopeList, missingScope, type RequiredScope } from './scopes.js';

/**
 * What a route lets personal API keys do:
 * - a scope object and action (write implies read);
 * - 'unsupported': keys are refused, except legacy keys with no scope list (PostHog's INTERNAL viewsets and
 *   unlisted custom actions, which APIScopePermission guards);
 * - 'sessions-only': every key is refused, legacy ones included (key management, guarded in PostHog by its own
 *   permission class instead of APIScopePermission);
 * - 'any': any valid key, no scope check (a key reading itself).
 */
export type KeyScope = RequiredScope | 'unsupported' | 'sessions-only' | 'any';

/**
 * What a route acts on, which decides the team and organization checks:
 * - team: a team id (or @current) in the named path parameter, or the user's current team (param null: PostHog's
 *   viewsets whose team is derived from the user only, such as the legacy /api/heatmap/);
 * - organization: an organization id (or @current) in the named path parameter, or the user's current one;
 * - none: neither (lists across the user's organizations);
 * - user: the caller's own account, exempt from the key's team and organization restrictions.
 */
export type AccessTarget =
  | { kind: 'team'; param: string | null }
  | { kind: 'organization'; param: string | null }
  | { kind: 'none' }
  | { kind: 'user' };

export interface RouteAccess {
  scope: KeyScope;
  target: AccessTarget;
  /** PostHog's TimeSensitiveActionPermission: unsafe session requests need a recent password entry. */
  recentAuthentication?: boolean;
  /** A throttle of the route's own for personal API keys, counted apart from and on top of the global one. */
  throttle?: RouteThrottle;
  /**
   * A share link's token (`?sharing_access_token=`) or an unlocked password share's JWT (Bearer) may GET this route
   * for the link's own recording, named by the route's `session_id` parameter (PostHog's sharing_enabled_actions).
   */
  sharedRecording?: boolean;
}

/** PostHog's per-action throttle classes (the replay listing_* and snapshots_* scopes): a name and its two windows. */
export interface RouteThrottle {
  name: string;
  burstPerMinute: number;
  sustainedPerHour: number;
}

export interface KeyCheckSubject {
  team: { id: number } | null;
  organization: { id: string; name: string; membersCanUsePersonalApiKeys: boolean } | null;
  membershipLevel: number | null;
}

export const UNSUPPORTED_KEY_ACCESS = 'This action does not support Personal API Key access';

/** The part of PostHog's APIScopePermission that runs before the target is known. */
export function checkKeySupported(key: PersonalApiKeyRow, scope: KeyScope): void {
  if (scope === 'sessions-only' || (scope === 'unsupported' && !isLegacyScopeList(key.scopes))) {
    throw new PermissionDeniedError(UNSUPPORTED_KEY_ACCESS);
  }
}

/** The rest of APIScopePermission, in PostHog's order: organization policy, scoped teams, scoped organizations, scopes. */
export function checkKeyAccess(key: PersonalApiKeyRow, scope: KeyScope, target: AccessTarget, subject: KeyCheckSubject): void {
  if (isLegacyScopeList(key.scopes) || scope === 'unsupported' || scope === 'sessions-only') return;
  if (target.kind !== 'user') {
    const { organization, membershipLevel } = subject;
    if (organization && !organization.membersCanUsePersonalApiKeys && (membershipLevel ?? 0) < 8) {
      throw new PermissionDeniedError(
        `Organization '${organization.name}' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.`,
      );
    }
    if (key.scopedTeams && key.scopedTeams.length > 0) {
      if (!subject.team) throw new PermissionDeniedError('API keys with scoped projects are only supported on project-based endpoints.');
      if (!key.scopedTeams.includes(subject.team.id)) {
        throw new PermissionDeniedError(`API key does not have access to the requested project: ID ${subject.team.id}.`);
      }
    }
    if (key.scopedOrganizations && key.scopedOrganizations.length > 0 && organization) {
      if (!key.scopedOrganizations.includes(organization.id)) {
        throw new PermissionDeniedError(`API key does not have access to the requested organization: ID ${organization.id}.`);
      }
    }
  }
  if (scope === 'any') return;
  const missing = missingScope(key.scopes ?? [], scope);
  if (missing) throw new PermissionDeniedError(`API key missing required scope '${missing}'`);
}
