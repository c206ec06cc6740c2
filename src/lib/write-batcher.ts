/**
 * Group commit for writes that arrive together: at most `maxInFlight` writes run at once; a call that finds them all
 * busy waits and is written with the others waiting under the same key, in one `write` of items weighing up to
 * `maxWeight` in all (an item heavier than that is written alone). At low load every call runs alone at once; under
 * load, ten requests cost one statement and one commit instead of ten.
 *
 * Each call stays all or nothing: when a shared write fails, its items are written again one by one, so one bad item
 * fails its own call only.
 */
export interface WriteBatcher<T, R> {
  /** Writes `item` with others of the same `key` (items of one key must be writable together); answers its result. */
  write(key: string, item: T): Promise<R>;
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export function createWriteBatcher<T, R>(options: {
  maxInFlight: number;
  maxWeight: number;
  weight: (item: T) => number;
  /** Writes items of one key together; answers one result per item, in order. */
  write: (items: T[]) => Promise<R[]>;
}): WriteBatcher<T, R> {
  const waiting = new Map<string, Waiting<T, R>[]>();
  let inFlight = 0;

  async function writeAlone({ item, resolve, reject }: Waiting<T, R>): Promise<void> {
    try {
      resolve((await options.write([item]))[0]!);
    } catch (error) {
      reject(error);
    }
  }

  async function flush(batch: Waiting<T, R>[]): Promise<void> {
    if (batch.length === 1) return writeAlone(batch[0]!);
    let results: R[];
    try {
      results = await options.write(batch.map(({ item }) => item));
    } catch {
      for (const call of batch) await writeAlone(call);
      return;
    }
    batch.forEach(({ resolve }, i) => resolve(results[i]!));
  }

  function next(): void {
    while (inFlight < options.maxInFlight) {
      const oldest = waiting.entries().next();
      if (oldest.done) return;
      const [key, calls] = oldest.value;
      let count = 0;
      for (let weight = 0; count < calls.length && (count === 0 || weight + options.weight(calls[count]!.item) <= options.maxWeight); count++) {
        weight += options.weight(calls[count]!.item);
      }
      const batch = calls.splice(0, count);
      // A key with calls left goes to the back, so one busy team does not hold the others up.
      waiting.delete(key);
      if (calls.length > 0) waiting.set(key, calls);
      inFlight++;
      void flush(batch).finally(() => {
        inFlight--;
        next();
      });
    }
  }

  return {
    write(key, item) {
      return new Promise<R>((resolve, reject) => {
        const calls = waiting.get(key);
        if (calls) calls.push({ item, resolve, reject });
        else waiting.set(key, [{ item, resolve, reject }]);
        next();
      });
    },
  };
}
