import { describe, expect, it } from 'vitest';
import { createWriteBatcher } from '../../src/lib/write-batcher.js';

/** A write that finishes when the test says, recording the batches it was given. */
function controlledWrite() {
  const batches: string[][] = [];
  const pending: (() => void)[] = [];
  const write = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(items);
      pending.push(() => (items.includes('bad') ? reject(new Error('bad item')) : resolve(items.map((item) => `stored ${item}`))));
    });
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { batches, write, finishAll };
}

describe('write batcher', () => {
  it('writes a call at once while fewer than maxInFlight writes run, and the calls that wait together, per key', async () => {
    const { batches, write, finishAll } = controlledWrite();
    const batcher = createWriteBatcher<string, string>({ maxInFlight: 1, maxWeight: 10, weight: () => 1, write });
    const results = Promise.all([batcher.write('a', 'a1'), batcher.write('a', 'a2'), batcher.write('b', 'b1'), batcher.write('a', 'a3')]);
    expect(batches).toEqual([['a1']]);
    await finishAll();
    expect(await results).toEqual(['stored a1', 'stored a2', 'stored b1', 'stored a3']);
    expect(batches).toEqual([['a1'], ['a2', 'a3'], ['b1']]);
  });

  it('puts no more than maxWeight in one write, an item heavier than that alone', async () => {
    const { batches, write, finishAll } = controlledWrite();
    const batcher = createWriteBatcher<string, string>({ maxInFlight: 1, maxWeight: 5, weight: (item) => item.length, write });
    const results = Promise.all(['x', 'yy', 'zzz', 'wwwwwww', 'v'].map((item) => batcher.write('k', item)));
    await finishAll();
    await results;
    expect(batches).toEqual([['x'], ['yy', 'zzz'], ['wwwwwww'], ['v']]);
  });

  it('writes each item of a failed shared write again alone, so only the bad one fails', async () => {
    const { batches, write, finishAll } = controlledWrite();
    const batcher = createWriteBatcher<string, string>({ maxInFlight: 1, maxWeight: 10, weight: () => 1, write });
    const first = batcher.write('k', 'first');
    const outcomes = Promise.allSettled(['good1', 'bad', 'good2'].map((item) => batcher.write('k', item)));
    await finishAll();
    expect(await first).toBe('stored first');
    expect((await outcomes).map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['stored good1', 'bad item', 'stored good2']);
    expect(batches).toEqual([['first'], ['good1', 'bad', 'good2'], ['good1'], ['bad'], ['good2']]);
  });
});
