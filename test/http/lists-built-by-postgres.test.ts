import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystem, heatmapSnapshots, savedHeatmaps } from '../../src/db/schema/index.js';
import { newUuid } from '../../src/lib/ids.js';
import { ok } from '../helpers/api.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { type Factories, factories, projectUrl, type Tenant } from '../helpers/factories.js';

/**
 * The file_system and saved heatmaps lists are printed by Postgres (db/json-text.ts): their bytes must be what the
 * serializer prints for the same objects, as the single-object routes still do, whatever the stored values hold.
 */
describe('lists whose JSON Postgres builds', () => {
  let ctx: TestContext;
  let make: Factories;
  let owner: Tenant;

  // jsonb keeps its own key order and number forms; the response prints the values as JSON.stringify does.
  const awkward = {
    '10': 'integer-like keys come first in JavaScript',
    '2': 2,
    b: 1e21,
    s: 1e-7,
    big: 12345678901234567000,
    text: 'a, b: "c" \\ \u0001 \u001f é 😀',
    nested: { z: [1.5, -2.5e-9, null, true], a: {} },
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    make = factories(ctx);
    owner = await make.tenant();
    ok(await owner.call('PATCH', '/api/users/@me/', { hedgehog_config: awkward }));
  });
  afterAll(() => ctx.close());

  /** The body is exactly JSON.stringify of its own value, and each result prints as its own route prints it. */
  async function expectPrintedAsObjects(listUrl: string, objectUrl: (result: Record<string, unknown>) => string): Promise<Record<string, unknown>[]> {
    const list = await owner.call('GET', listUrl);
    expect(list.statusCode).toBe(200);
    const body = JSON.parse(list.body) as { results: Record<string, unknown>[] };
    expect(list.body).toBe(JSON.stringify(body));
    for (const result of body.results) {
      const single = await owner.call('GET', objectUrl(result));
      expect(single.statusCode).toBe(200);
      expect(JSON.stringify(result)).toBe(single.body);
    }
    return body.results;
  }

  it('prints file_system entries as the entry route does: meta, the creator and timestamps', async () => {
    const entry = await make.treeEntry(owner, 'Awkward/Quote " back \\ é 😀', { meta: { ...awkward, created_by: owner.user.id } });
    await make.treeEntry(owner, 'Awkward/Plain');
    // A creator whose row is gone, and a timestamp without microseconds (isoZ prints no fraction then).
    const [plain] = await ctx.database.db.select().from(fileSystem).where(eq(fileSystem.path, 'Awkward/Plain'));
    await ctx.database.db
      .update(fileSystem)
      .set({ createdById: null, createdAt: '2026-01-02 03:04:05+00', meta: null })
      .where(eq(fileSystem.id, plain!.id));

    const base = projectUrl(owner.teamId, '/file_system/');
    const results = await expectPrintedAsObjects(`${base}?parent=Awkward&depth=2`, (r) => `${base}${r.id as string}/`);
    expect(results.map((r) => r.path)).toEqual(['Awkward/Plain', 'Awkward/Quote " back \\ é 😀']);
    expect(results[0]).toMatchObject({ created_at: '2026-01-02T03:04:05Z', created_by: null, meta: null });
    expect(results[1]).toMatchObject({ id: entry.id, meta: { ...awkward, created_by: owner.user.id }, created_by: { hedgehog_config: awkward } });

    const list = ok(await owner.call('GET', `${base}?parent=Awkward&depth=2`));
    expect(list.users).toEqual([expect.objectContaining({ id: owner.user.id, hedgehog_config: awkward })]);
    // The same entries through a search, which is not a prepared statement, and past the last page.
    await expectPrintedAsObjects(`${base}?search=Awkward`, (r) => `${base}${r.id as string}/`);
    expect(ok(await owner.call('GET', `${base}?parent=Awkward&depth=2&offset=5`))).toMatchObject({ count: 2, results: [] });
  });

  it('prints saved heatmaps as the heatmap route does: widths, snapshots and the creator', async () => {
    const base = projectUrl(owner.teamId, '/saved/');
    const shown = await make.heatmap(owner, { type: 'iframe', name: 'Awkward " é', widths: [1024, 390] });
    const rendered = await make.heatmap(owner, { type: 'iframe', widths: [1440, 768, 320] });
    await ctx.database.db.insert(heatmapSnapshots).values([
      { id: newUuid(), heatmapId: rendered.id, width: 768, content: Buffer.from('jpeg') },
      { id: newUuid(), heatmapId: rendered.id, width: 320, content: Buffer.alloc(0) },
      { id: newUuid(), heatmapId: rendered.id, width: 1440, contentLocation: 's3://bucket/key' },
    ]);
    await ctx.database.db.update(savedHeatmaps).set({ createdById: null }).where(eq(savedHeatmaps.id, shown.id));

    const results = await expectPrintedAsObjects(base, (r) => `${base}${r.short_id as string}/`);
    expect(results.map((r) => r.id)).toEqual([rendered.id, shown.id]);
    expect(results[0]).toMatchObject({
      has_content: true,
      snapshots: [
        { width: 320, has_content: false },
        { width: 768, has_content: true },
        { width: 1440, has_content: true },
      ],
      created_by: { hedgehog_config: awkward },
    });
    expect(results[1]).toMatchObject({ has_content: false, snapshots: [], created_by: null });
    expect(ok(await owner.call('GET', `${base}?offset=5`))).toEqual({ results: [], count: 2 });
  });
});
