import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, PaginationQuery, pageParams, quotePlus } from '../../src/http/pagination.js';
import { bearer, createTestContext, type TestContext } from '../helpers/context.js';

describe('DRF limit/offset pagination', () => {
  it('parses limit and offset leniently', () => {
    const parse = (query: Record<string, string>) => pageParams(PaginationQuery.parse(query));
    expect(parse({})).toEqual({ limit: 100, offset: 0 });
    expect(parse({ limit: '5', offset: '10' })).toEqual({ limit: 5, offset: 10 });
    expect(parse({ limit: '0', offset: '-3' })).toEqual({ limit: 100, offset: 0 });
    expect(parse({ limit: 'abc', offset: '1.5' })).toEqual({ limit: 100, offset: 0 });
    expect(parse({ limit: '100000' })).toEqual({ limit: 100000, offset: 0 });
  });

  it('builds absolute next and previous links with the query sorted by key', () => {
    const url = 'https://h.example/api/projects/1/saved/?search=x&offset=100&limit=50';
    const page = buildPage(url, { limit: 50, offset: 100 }, 250, []);
    expect(page.next).toBe('https://h.example/api/projects/1/saved/?limit=50&offset=150&search=x');
    expect(page.previous).toBe('https://h.example/api/projects/1/saved/?limit=50&offset=50&search=x');
  });

  it('drops offset from previous when it reaches the first page, and ends next at the last page', () => {
    const page = buildPage('http://h/api/x/?offset=30&limit=50', { limit: 50, offset: 30 }, 80, []);
    expect(page.previous).toBe('http://h/api/x/?limit=50');
    expect(page.next).toBeNull();
    const first = buildPage('http://h/api/x/', { limit: 100, offset: 0 }, 250, []);
    expect(first.previous).toBeNull();
    expect(first.next).toBe('http://h/api/x/?limit=100&offset=100');
  });

  it("keeps repeated and blank parameters and encodes like Python's urlencode", () => {
    const page = buildPage('http://h/api/x/?type=b&z=&type=a&q=a+b%2Fc', { limit: 1, offset: 0 }, 5, []);
    expect(page.next).toBe('http://h/api/x/?limit=1&offset=1&q=a+b%2Fc&type=b&type=a&z=');
    expect(quotePlus("it's (ok)*!~")).toBe('it%27s+%28ok%29%2A%21~');
  });
});

describe('pagination links through the app', () => {
  let ctx: TestContext;
  let key: string;

  beforeAll(async () => {
    ctx = await createTestContext({ SITE_URL: 'https://burrow.example.com/' });
    const account = await ctx.newAccount();
    for (let i = 0; i < 3; i += 1) await ctx.services.accounts.createOrganization(account.user, `Org ${i}`);
    key = await ctx.newKey(account.user);
  });
  afterAll(() => ctx.close());

  it('pages a list with absolute links on SITE_URL', async () => {
    const first = (await ctx.app.inject({ url: '/api/organizations/?limit=2', headers: bearer(key) })).json();
    expect(first.count).toBe(4);
    expect(first.results).toHaveLength(2);
    expect(first.next).toBe('https://burrow.example.com/api/organizations/?limit=2&offset=2');
    expect(first.previous).toBeNull();
    const second = (await ctx.app.inject({ url: '/api/organizations/?limit=2&offset=2', headers: bearer(key) })).json();
    expect(second.results.map((o: { id: string }) => o.id)).not.toContain(first.results[0].id);
    expect(second.next).toBeNull();
    expect(second.previous).toBe('https://burrow.example.com/api/organizations/?limit=2');
    const beyond = (await ctx.app.inject({ url: '/api/organizations/?offset=10', headers: bearer(key) })).json();
    expect(beyond).toMatchObject({ count: 4, results: [], next: null });
  });

  it("uses the request's own origin without SITE_URL", async () => {
    const local = await createTestContext();
    try {
      const account = await local.newAccount();
      await local.services.accounts.createOrganization(account.user, 'Second');
      const k = await local.newKey(account.user);
      const page = (await local.app.inject({ url: '/api/organizations?limit=1', headers: { ...bearer(k), host: 'api.local:8000' } })).json();
      expect(page.next).toBe('http://api.local:8000/api/organizations?limit=1&offset=1');
    } finally {
      await local.close();
    }
  });
});
