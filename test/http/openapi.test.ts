import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateOpenApi } from '../../src/openapi.js';
import { ROOT } from '../helpers/process.js';

describe('openapi.yaml', () => {
  // Generating builds the whole app once; on a loaded machine that alone can take tens of seconds.
  let generated: string;
  beforeAll(async () => {
    generated = await generateOpenApi();
  }, 120_000);

  it('is what `npm run openapi` generates from the routes (run it and commit the file when this fails)', async () => {
    const committed = await fs.readFile(path.join(ROOT, 'openapi.yaml'), 'utf8');
    expect(committed).toBe(generated);
  });

  it('documents every operation with an operationId, a tag and its responses', async () => {
    const document = YAML.parse(generated) as { paths: Record<string, Record<string, { operationId?: string; tags?: string[]; responses?: object }>> };
    const operations = Object.entries(document.paths).flatMap(([url, item]) => Object.entries(item).map(([method, op]) => ({ url, method, op })));
    expect(operations.length).toBeGreaterThan(10);
    for (const { url, method, op } of operations) {
      expect(op.operationId, `${method} ${url}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${url}`).toBeGreaterThan(0);
      expect(Object.keys(op.responses ?? {}).length, `${method} ${url}`).toBeGreaterThan(0);
    }
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
