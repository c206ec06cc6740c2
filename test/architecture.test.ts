import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/process.js';

describe('source layout', () => {
  it('has no import cycle in src/, type-only imports included', async () => {
    const tree = await parseDependencyTree('src/**/*.ts', { context: ROOT, transform: false, skipDynamicImports: false });
    expect(Object.keys(tree).length).toBeGreaterThan(100);
    expect(parseCircular(tree)).toEqual([]);
  });
});
