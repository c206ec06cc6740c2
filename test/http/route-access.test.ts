import type { FastifyServerOptions, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RouteAccess } from '../../src/services/auth/access.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

/**
 * The whole route → access table, compared with a committed snapshot (__snapshots__/route-access.txt), so a route
 * that loses or changes its key scope, its target or its recent-authentication rule fails here, in review.
 *
 * How the routes are collected: buildApp creates its own Fastify instance and registers every route before it
 * returns, and Fastify offers no way to list routes with their config afterwards (printRoutes shows no config,
 * findRoute answers only handler and params). So this file wraps the `fastify` factory (vi.mock, this file only)
 * to add an onRoute hook to the instance buildApp creates, before any route is registered.
 */
const collected = vi.hoisted(() => [] as RouteOptions[]);

vi.mock('fastify', async (importOriginal) => {
  const original = await importOriginal<typeof import('fastify')>();
  const create = original.default as unknown as (options?: FastifyServerOptions) => ReturnType<typeof original.default>;
  const wrapped = (options?: FastifyServerOptions) => {
    const app = create(options);
    app.addHook('onRoute', (route: RouteOptions) => {
      collected.push(route);
    });
    return app;
  };
  return { ...original, default: wrapped, fastify: wrapped };
});

type Access = RouteAccess | 'public' | undefined;

interface Line {
  method: string;
  url: string;
  access: string;
  target: string;
  flags: string;
}

function describeAccess(access: Access): Pick<Line, 'access' | 'target'> {
  if (access === undefined) return { access: '-', target: '-' };
  if (access === 'public') return { access: 'public', target: '-' };
  const scope = typeof access.scope === 'string' ? access.scope : `${access.scope.object}:${access.scope.action}`;
  const { target } = access;
  const where = target.kind === 'team' || target.kind === 'organization' ? `${target.kind}(${target.param === null ? 'current' : `:${target.param}`})` : target.kind;
  return { access: scope, target: where };
}

function lines(routes: RouteOptions[]): Line[] {
  const all: Line[] = [];
  for (const route of routes) {
    const access = route.config?.access as Access;
    const flags = [
      ...(access && access !== 'public' && access.recentAuthentication ? ['recent-authentication'] : []),
      ...(route.schema?.hide ? ['hidden'] : []),
    ].join(' ');
    for (const method of [route.method].flat()) all.push({ method, url: route.url, ...describeAccess(access), flags });
  }
  return all;
}

const byUrlThenMethod = (a: Line, b: Line) => (a.url < b.url ? -1 : a.url > b.url ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0);

function render(table: Line[]): string {
  const width = (pick: (l: Line) => string, title: string) => Math.max(title.length, ...table.map((l) => pick(l).length));
  const columns: [string, (l: Line) => string][] = [
    ['METHOD', (l) => l.method],
    ['URL', (l) => l.url],
    ['KEY ACCESS', (l) => l.access],
    ['TARGET', (l) => l.target],
    ['FLAGS', (l) => l.flags],
  ];
  const widths = columns.map(([title, pick]) => width(pick, title));
  const row = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const header = [
    '# Every route of the app with the access it declares (config.access), one line per method and URL.',
    '# KEY ACCESS: <object>:<action> (write implies read), unsupported, sessions-only, any, public, or - (not under /api).',
    '# TARGET: team(:param), organization(:param | current), none or user. FLAGS: recent-authentication (unsafe',
    '# session requests need a recent password), hidden (not in the OpenAPI document: the 405 answers to the',
    '# methods a known /api path lacks, which authenticate first, and the /docs pages).',
    '# HEAD routes, which Fastify adds for every GET with the same config, are left out.',
    '# Regenerate after a deliberate change with: npx vitest run test/http/route-access.test.ts -u',
  ];
  return [...header, row(columns.map(([title]) => title)), ...table.map((l) => row(columns.map(([, pick]) => pick(l))))].join('\n') + '\n';
}

describe('route access table', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx?.close());

  it('collects the routes of the app buildApp made', () => {
    expect(collected.length).toBeGreaterThan(50);
    const urls = new Set(collected.map((r) => r.url));
    for (const url of ['/_health', '/api/users/:uuid/', '/api/projects/:project_id/saved/', '/api/environments/:environment_id/file_system/:id/move/']) {
      expect(urls, url).toContain(url);
    }
    // The app the test context built is the one whose routes were collected.
    expect(ctx.app.findRoute({ method: 'GET', url: '/api/projects/1/saved/' })).not.toBeNull();
  });

  it('gives every HEAD route the access of its GET route', () => {
    const table = lines(collected);
    for (const head of table.filter((l) => l.method === 'HEAD')) {
      expect(table.find((l) => l.method === 'GET' && l.url === head.url), head.url).toEqual({ ...head, method: 'GET' });
    }
  });

  it('has no /api route without a key access rule, and none public but sign-up, login and logout', () => {
    const api = lines(collected).filter((l) => l.url.startsWith('/api'));
    expect(api.filter((l) => l.access === '-')).toEqual([]);
    expect([...new Set(api.filter((l) => l.access === 'public').map((l) => l.url))].sort()).toEqual(['/api/login/', '/api/logout/', '/api/signup/']);
  });

  it('matches the committed table', async () => {
    const table = lines(collected)
      .filter((l) => l.method !== 'HEAD')
      .sort(byUrlThenMethod);
    const seen = new Set<string>();
    for (const l of table) {
      const id = `${l.method} ${l.url}`;
      expect(seen.has(id), `${id} is registered twice`).toBe(false);
      seen.add(id);
    }
    await expect(render(table)).toMatchFileSnapshot('./__snapshots__/route-access.txt');
  });
});
