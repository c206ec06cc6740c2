import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { MembershipLevel, type MembershipLevelValue } from '../../src/db/enums.js';
import { teams, type UserRow } from '../../src/db/schema/index.js';
import { newProjectApiToken } from '../../src/lib/ids.js';
import { ok, sessionHeaders } from './api.js';
import { bearer, type TestAccount, type TestContext } from './context.js';

/**
 * Test data the area tests share, made the way a client would make it (through the API) unless the API cannot:
 * `factories(ctx)` once the test context exists, then `make.tenant()`, `make.heatmap(owner)`, ...
 */

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
/** `ctx.client(key)`: calls the API with the key, or with the key given as the fourth argument. */
export type Call = (method: Method, url: string, payload?: object, key?: string) => Promise<LightMyRequestResponse>;

/** A user and one of their keys: what a test calls the API as. */
export interface Caller {
  user: UserRow;
  key: string;
  /** The key's Authorization header. */
  headers: Record<string, string>;
  call: Call;
}

/** An organization with its default project (team), and a user of it holding a full-access (`*`) key. */
export interface Tenant extends TestAccount, Caller {}

/** What a team-scoped factory needs: the team, and a caller allowed to write to it. */
export type TeamCaller = Pick<Tenant, 'teamId' | 'call'>;

/** A JSON object as the API answers it. */
export type Body = Record<string, any> & { id: string };

/** A public address literal: no DNS needed on this closed network, and the SSRF guard lets it through. */
export const PAGE = 'http://93.184.215.14/pricing';

export const projectUrl = (teamId: number | string, path = '/') => `/api/projects/${teamId}${path}`;

export function factories(ctx: TestContext) {
  const caller = (user: UserRow, key: string): Caller => ({ user, key, headers: bearer(key), call: ctx.client(key) });
  const created = async (response: Promise<LightMyRequestResponse>, status = 201) => ok<Body>(await response, status);

  return {
    /** A new organization with its default project, owned by a new user who holds a `*` key. */
    async tenant(overrides: Parameters<TestContext['newAccount']>[0] = {}): Promise<Tenant> {
      const account = await ctx.newAccount(overrides);
      return { ...account, ...caller(account.user, await ctx.newKey(account.user)) };
    },

    /** Another key of the user: the given scopes (default `*`), restricted to the given teams and organizations if any. */
    async key(user: UserRow, scopes: string[] = ['*'], restrictions: { teams?: number[]; organizations?: string[] } = {}): Promise<Caller> {
      const key = await ctx.newKey(user, {
        scopes,
        ...(restrictions.teams && { scoped_teams: restrictions.teams }),
        ...(restrictions.organizations && { scoped_organizations: restrictions.organizations }),
      });
      return caller(user, key);
    },

    /**
     * A new user who joins the tenant's organization at a level (default member) and holds a `*` key. The result is a
     * tenant of its own: the same organization and team, so it can be passed wherever the tenant can.
     */
    async member(tenant: TestAccount, level: MembershipLevelValue = MembershipLevel.member): Promise<Tenant> {
      const user = await ctx.newMember(tenant.organizationId, level);
      return { ...tenant, ...caller(user, await ctx.newKey(user)) };
    },

    /** The project token (phc_...) of the tenant's team, read through the API as a user would: what capture takes. */
    async projectToken(owner: Tenant): Promise<string> {
      return ok<Body>(await owner.call('GET', `/api/projects/${owner.teamId}/`)).api_token as string;
    },

    /** The headers of a browser that just logged the user in: the cookies and the CSRF token. */
    async session(user: UserRow): Promise<ReturnType<typeof sessionHeaders>> {
      return sessionHeaders(await ctx.login(user.email));
    },

    /** Another project (and its team) in the tenant's organization, made through the service; the user stays where they are. */
    async project(tenant: Pick<TestAccount, 'organizationId'>, name = 'Second'): Promise<number> {
      return (await ctx.services.accounts.createProject(tenant.organizationId, name, null)).team.id;
    },

    /** A second environment (team) of the tenant's default project, which Burrow's API has no way to create yet. */
    async environment(tenant: Pick<TestAccount, 'organizationId' | 'teamId'>, name = 'Staging'): Promise<number> {
      const [team] = await ctx.database.db
        .insert(teams)
        .values({ uuid: randomUUID(), organizationId: tenant.organizationId, projectId: tenant.teamId, name, apiToken: newProjectApiToken() })
        .returning();
      return team!.id;
    },

    /**
     * A saved heatmap, made through the API (201). A screenshot heatmap (the default type) stays `processing` with its
     * render queued, as WORKERS is off in tests; an iframe heatmap is `completed` at once.
     */
    heatmap(owner: TeamCaller, payload: { url?: string; name?: string; type?: 'screenshot' | 'iframe'; [field: string]: unknown } = {}): Promise<Body> {
      return created(owner.call('POST', projectUrl(owner.teamId, '/saved/'), { url: PAGE, ...payload }));
    },

    /** A project tree entry (its missing parent folders made too), through the API. */
    treeEntry(owner: TeamCaller, path: string, extra: { type?: string; ref?: string; [field: string]: unknown } = {}): Promise<Body> {
      return created(owner.call('POST', projectUrl(owner.teamId, '/file_system/'), { path, ...extra }));
    },

    /** A shortcut (star) of the caller's, through the API. */
    shortcut(owner: TeamCaller, payload: { path: string; type?: string; ref?: string; href?: string; order?: number }): Promise<Body> {
      return created(owner.call('POST', projectUrl(owner.teamId, '/file_system_shortcut/'), payload));
    },

    /** The caller's persisted folder of a type, through the API (an upsert: the same type answers the same row). */
    persistedFolder(owner: TeamCaller, payload: { type: 'home' | 'pinned' | 'custom_products'; protocol?: string; path?: string }): Promise<Body> {
      return created(owner.call('POST', projectUrl(owner.teamId, '/persisted_folder/'), payload));
    },
  };
}

export type Factories = ReturnType<typeof factories>;
