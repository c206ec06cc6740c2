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

  it('sends a browser to the sign-in page of Burrow’s own pages (test/modules/web)', async () => {
    const response = await ctx.app.inject({ url: '/', headers: { accept: BROWSER, host: 'burrow.example:8000' } });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/login?next=%2F');
  });

  it('keeps answering API clients with JSON, as before', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html;q=0.5']) {
      expectError(await ctx.app.inject({ url: '/', headers: accept ? { accept } : {} }), 404, notFound('Endpoint not found.'));
    }
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
