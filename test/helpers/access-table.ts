import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPE_OBJECTS } from '../../src/access/scopes.js';
import { denied, expectError, notAuthenticated, notFound, ok } from './api.js';
import type { TestContext } from './context.js';
import { type Caller, factories, type Method, type Tenant } from './factories.js';

/**
 * One table of an area's routes and the access each needs, checked the same way for every row, instead of a copy of
 * the scope and tenant checks in each area's tests. For each row:
 *
 * 1. no credentials: 401 not_authenticated;
 * 2. a key holding every scope but the route's (for a write route, with the read scope of its object too):
 *    403 `API key missing required scope '<scope>'`; for a sessions-only route, even a `*` key:
 *    403 `This action does not support Personal API Key access`;
 * 3. another organization's key (or session) on the owner's project: 403 `You don't have access to the project.`
 *    (rows with :team), on the owner's organization: 404 (rows with :org);
 * 4. a key of the owner scoped to another project of the organization (rows with :team): 403
 *    `API key does not have access to the requested project: ID <team>.`;
 * 5. the owner's object (:id) asked for by another organization under its own project: 404, or the row's foreignObject;
 * 6. the object is still as it was made (the row object's `intact`), after all those refusals;
 * 7. a key with exactly the scope gets past authorization, and so does one with the object's write scope on a read
 *    route: the row's status (or anything but 401 and 403), and for GET the very answer the owner's `*` key gets.
 *    A sessions-only route is served to the owner's browser session; an 'any' route to a key with one unrelated scope.
 *
 * The placeholders of a row's path: :team (the owner's team id), :org (its organization id), :id (the row's object).
 */

export type Scope = `${string}:${'read' | 'write'}`;

export interface AccessObject {
  /** What :id stands for. */
  id: string;
  /** Asserts the object is as it was made. */
  intact?: () => Promise<void>;
}

/** An object the owner reads back at `url`: intact while a GET there still answers `made` (by default, what it answers now). */
export async function readBack(owner: Tenant, id: string, url: string, made?: unknown): Promise<AccessObject> {
  const expected = made ?? ok(await owner.call('GET', url));
  return { id, intact: async () => expect(ok(await owner.call('GET', url))).toEqual(expected) };
}

export interface AccessRow {
  method: Method;
  path: string;
  /** The key scope the route needs; 'sessions-only': no key at all; 'any': any valid key. */
  scope: Scope | 'sessions-only' | 'any';
  /**
   * Makes the row's object in the owner's team, as the owner; its id fills :id. Made again for each further call that
   * may change it. A row without :id may use it only for `intact`: what the refused calls must have left alone.
   */
  object?: (owner: Tenant) => Promise<AccessObject>;
  /** The body of every call. */
  body?: object;
  /** The status of an authorized call; by default anything but 401 and 403. */
  status?: number;
  /** The status another organization gets for the owner's object under its own project, if not 404 "Not found.". */
  foreignObject?: number;
}

export const NO_PROJECT_ACCESS = denied("You don't have access to the project.");
export const UNSUPPORTED_KEY_ACCESS = denied('This action does not support Personal API Key access');

/** A team route under both prefixes: `path` is what follows /api/projects/:team and /api/environments/:team. */
export function teamRows(rows: AccessRow[]): AccessRow[] {
  return rows.flatMap((row) => ['projects', 'environments'].map((prefix) => ({ ...row, path: `/api/${prefix}/:team${row.path}` })));
}

/** Registers one test per row (a describe block named "access table"). `context` is read when the tests run. */
export function accessTable(context: () => TestContext, rows: AccessRow[]): void {
  describe('access table', () => {
    let ctx: TestContext;
    let owner: Tenant;
    let intruder: Tenant;
    const keys = new Map<string, Promise<Caller>>();
    const sessions = new Map<Tenant, Promise<Record<string, string>>>();
    let otherProject: Promise<number> | undefined;

    beforeAll(async () => {
      ctx = context();
      const make = factories(ctx);
      owner = await make.tenant({ organizationName: 'Owner' });
      intruder = await make.tenant({ organizationName: 'Intruder' });
    });

    /** The owner's keys, made once per scope list (a user may hold ten). */
    const keyOf = (scopes: string[], teams?: number[]) => {
      const id = `${scopes.join(' ')}|${teams ?? ''}`;
      if (!keys.has(id)) keys.set(id, factories(ctx).key(owner.user, scopes, teams ? { teams } : {}));
      return keys.get(id)!;
    };
    const sessionOf = (tenant: Tenant) => {
      if (!sessions.has(tenant)) sessions.set(tenant, factories(ctx).session(tenant.user));
      return sessions.get(tenant)!;
    };
    const fill = (path: string, tenant: Tenant, id = '') =>
      path.replaceAll(':team', String(tenant.teamId)).replaceAll(':org', tenant.organizationId).replaceAll(':id', encodeURIComponent(id));
    const allScopesBut = (object: string) => API_SCOPE_OBJECTS.filter((o) => o !== object).map((o) => `${o}:write`);

    for (const row of rows) {
      it(`${row.method} ${row.path} (${row.scope})`, async () => {
        const send = (url: string, headers: Record<string, string>) =>
          ctx.app.inject({ method: row.method, url, headers, ...(row.body && { payload: row.body }) });
        const sessionsOnly = row.scope === 'sessions-only';
        const made = row.object ? await row.object(owner) : undefined;
        const url = fill(row.path, owner, made?.id);
        const label = `${row.method} ${url}`;

        // 1. No credentials.
        expectError(await send(url, {}), 401, notAuthenticated);

        // 2. Keys without the scope.
        if (sessionsOnly) {
          expectError(await send(url, owner.headers), 403, UNSUPPORTED_KEY_ACCESS);
        } else if (row.scope !== 'any') {
          const [object, action] = row.scope.split(':') as [string, 'read' | 'write'];
          const lacking = await keyOf([...allScopesBut(object), ...(action === 'write' ? [`${object}:read`] : [])]);
          expectError(await send(url, lacking.headers), 403, denied(`API key missing required scope '${row.scope}'`));
        }

        // 3. Another organization on the owner's project or organization.
        const intruderHeaders = sessionsOnly ? await sessionOf(intruder) : intruder.headers;
        if (row.path.includes(':team')) expectError(await send(url, intruderHeaders), 403, NO_PROJECT_ACCESS);
        if (row.path.includes(':org')) expectError(await send(url, intruderHeaders), 404, notFound());

        // 4. A key of the owner scoped to another project of the organization.
        if (row.path.includes(':team') && !sessionsOnly) {
          otherProject ??= factories(ctx).project(owner, 'Outside the key');
          const scoped = await keyOf(['*'], [await otherProject]);
          expectError(await send(url, scoped.headers), 403, denied(`API key does not have access to the requested project: ID ${owner.teamId}.`));
        }

        // 5. The owner's object, from the other organization's own project.
        if (made && row.path.includes(':id')) {
          const response = await send(fill(row.path, intruder, made.id), intruderHeaders);
          if (row.foreignObject === undefined) expectError(response, 404, notFound());
          else expect(response.statusCode, `${label} from another organization`).toBe(row.foreignObject);
        }

        // 6. Nothing the refused calls could have changed did change.
        await made?.intact?.();

        // 7. Callers with exactly the scope (or write for read) get past authorization.
        const callers: Record<string, string>[] = sessionsOnly
          ? [await sessionOf(owner)]
          : row.scope === 'any'
            ? [(await keyOf(['user:read'])).headers]
            : row.scope.endsWith(':read')
              ? [(await keyOf([row.scope])).headers, (await keyOf([row.scope.replace(/:read$/, ':write')])).headers]
              : [(await keyOf([row.scope])).headers];
        const reference = row.method === 'GET' && !sessionsOnly && row.scope !== 'any' ? await send(url, owner.headers) : undefined;
        for (const [i, headers] of callers.entries()) {
          // The first call finds the object as made; a further call that may change it gets a new one.
          const target = i === 0 || row.method === 'GET' || !row.object ? url : fill(row.path, owner, (await row.object(owner)).id);
          const response = await send(target, headers);
          expectAuthorized(response, row.status, label);
          if (reference) {
            expect(response.statusCode, label).toBe(reference.statusCode);
            expect(response.body, label).toEqual(reference.body);
          }
        }
      });
    }
  });
}

function expectAuthorized(response: LightMyRequestResponse, status: number | undefined, label: string): void {
  if (status !== undefined) expect(response.statusCode, `${label}: ${response.body}`).toBe(status);
  else expect([401, 403], `${label}: ${response.body}`).not.toContain(response.statusCode);
}
