import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serializerCompiler } from '../../src/http/serializer.js';

/** The serializer Fastify would build for a route answering `schema`. */
const compile = (schema: z.core.$ZodType, compiler: typeof serializerCompiler) =>
  compiler({ schema, method: 'GET', url: '/', httpStatus: '200' } as Parameters<typeof serializerCompiler>[0]);

/**
 * The projection must print what zod's encode prints for every value the routes answer; a union of objects (the
 * heatmap query's page or its scroll-depth buckets) is projected by the option whose keys the value has.
 */
describe('the response serializer', () => {
  const Point = z.object({ count: z.number().int(), pointer_y: z.number().int(), fixed: z.boolean() });
  const Union = z.union([
    z.object({ results: z.array(Point), fold: z.object({ total: z.number() }), has_more: z.boolean() }),
    z.object({ results: z.array(z.object({ bucket: z.number() })) }),
  ]);
  const ours = compile(Union, serializerCompiler);
  const zods = compile(Union, zodSerializerCompiler);

  it('prints a value of either option as zod does', () => {
    const page = { results: [{ count: 2, pointer_y: 16, fixed: false }], fold: { total: 2 }, has_more: false };
    const buckets = { results: [{ bucket: 100 }, { bucket: 200 }] };
    for (const value of [page, buckets]) expect(ours(value)).toBe(zods(value));
  });

  it('drops undeclared keys wherever they are, as zod does', () => {
    const extraAtTop = { results: [], fold: { total: 0 }, has_more: false, secret: 1 };
    const extraInRow = { results: [{ count: 1, pointer_y: 0, fixed: true, secret: 'x' }], fold: { total: 1, secret: 2 }, has_more: true };
    const reordered = { has_more: false, results: [], fold: { total: 0 } };
    for (const value of [extraAtTop, extraInRow, reordered]) {
      expect(ours(value)).toBe(zods(value));
      expect(ours(value)).not.toContain('secret');
    }
  });

  it('refuses a value that matches no option, as zod does', () => {
    expect(() => ours({ results: 'no' })).toThrow();
    expect(() => zods({ results: 'no' })).toThrow();
  });
});
