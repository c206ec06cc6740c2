import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefersHtml } from '../../../src/http/negotiation.js';
import { expectError, notFound } from '../../helpers/api.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('GET /', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('gives a browser a page saying what this is, with its health and where to go next', async () => {
    const response = await ctx.app.inject({ url: '/', headers: { accept: BROWSER, host: 'burrow.example:8000' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toMatch(/^<!doctype html>/);
    expect(response.body).toContain('PostHog');
    expect(response.body).toContain('href="/docs"');
    expect(response.body).toContain('href="/_health"');
    expect(response.body).toContain('Health: <span class="status">ok');
    expect(response.body).toContain('http://burrow.example:8000/api/projects/@current/');
  });

  it('keeps answering API clients with JSON, as before', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html;q=0.5']) {
      expectError(await ctx.app.inject({ url: '/', headers: accept ? { accept } : {} }), 404, notFound('Endpoint not found.'));
    }
  });

  it('escapes what it repeats from the request', async () => {
    const response = await ctx.app.inject({ url: '/', headers: { accept: BROWSER, host: 'x"><script>alert(1)</script>' } });
    expect(response.body).not.toContain('<script>alert(1)</script>');
  });

  it('says so when the database does not answer', async () => {
    const down = await createTestContext();
    await down.database.close();
    const response = await down.app.inject({ url: '/', headers: { accept: BROWSER } });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('Health: <span class="status">unavailable');
    await down.app.close();
  });
});

describe('prefersHtml', () => {
  it.each([
    [BROWSER, true],
    ['text/html', true],
    ['application/xhtml+xml', true],
    ['text/html;q=0.5, application/json', false],
    ['application/json;q=0.5, text/html', true],
    ['text/html;q=0', false],
    ['*/*', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });
});
