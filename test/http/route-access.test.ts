import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteAccess } from '../../src/access/route-access.js';
import { buildApp } from '../../src/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

/**
 * The whole route → access table, compared with a committed snapshot (__snapshots__/route-access.txt), so a route
 * that loses or changes its key scope, its target or its recent-authentication rule fails here, in review.
 *
 * The routes are collected by an onRoute hook that a first, unencapsulated route plugin adds to the app buildApp
 * makes from the test context's own services: it sees every area's routes and the 405 routes added after them.
 */
const collected: RouteOptions[] = [];
const collectRoutes = fp(async (app: FastifyInstance) => {
  app.addHook('onRoute', (route: RouteOptions) => void collected.push(route));
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
    '# methods a known /api path lacks, which authenticate first).',
    '# HEAD routes, which Fastify adds for every GET with the same config, are left out.',
    '# Regenerate after a deliberate change with: npx vitest run test/http/route-access.test.ts -u',
  ];
  return [...header, row(columns.map(([title]) => title)), ...table.map((l) => row(columns.map(([, pick]) => pick(l))))].join('\n') + '\n';
}

describe('route access table', () => {
  let ctx: TestContext;
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    ctx = await createTestContext();
    app = await buildApp({ ...ctx.services, routes: [collectRoutes, ...ctx.services.routes] });
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.close();
  });

  it('collects the routes of every area', () => {
    expect(collected.length).toBeGreaterThan(50);
    const urls = new Set(collected.map((r) => r.url));
    for (const url of ['/_health', '/api/users/:uuid/', '/api/projects/:project_id/saved/', '/api/environments/:environment_id/file_system/:id/move/']) {
      expect(urls, url).toContain(url);
    }
  });

  it('gives every HEAD route the access of its GET route', () => {
    const table = lines(collected);
    for (const head of table.filter((l) => l.method === 'HEAD')) {
      expect(table.find((l) => l.method === 'GET' && l.url === head.url), head.url).toEqual({ ...head, method: 'GET' });
    }
  });

  it('has no /api route without a key access rule, and none public but sign-up, login, logout and unsubscribe', () => {
    const api = lines(collected).filter((l) => l.url.startsWith('/api'));
    expect(api.filter((l) => l.access === '-')).toEqual([]);
    expect([...new Set(api.filter((l) => l.access === 'public').map((l) => l.url))].sort()).toEqual([
      '/api/login/',
      '/api/logout/',
      '/api/signup/',
      // A subscription email's link: its JWT (audience unsubscribe, 30 days) is the credential.
      '/api/unsubscribe',
    ]);
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
