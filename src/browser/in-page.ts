import type { Page } from 'playwright-core';

/** How long a call into the page may take, unless the caller gives it longer. */
export const EVALUATE_TIMEOUT_MS = 2_000;

export const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT once timeoutMs have passed (a rejection after that is ignored). */
export async function orTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls into the page that give up instead of hanging. Once one times out (the page keeps its renderer busy, e.g.
 * a script in an endless loop), the following ones are skipped, and the capture's own timeout decides.
 */
export interface InPage {
  readonly stalled: boolean;
  /** The promise's value; `fallback` when it rejects, times out, or the page stalled earlier. */
  within<T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F>;
  evaluate<T>(expression: string, fallback: T, timeoutMs?: number): Promise<T>;
}

export function inPage(page: Page): InPage {
  let stalled = false;
  const within = async <T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> => {
    promise.catch(() => undefined);
    if (stalled) return fallback;
    try {
      const value = await orTimeout(promise, timeoutMs);
      if (value !== TIMED_OUT) return value;
      stalled = true;
      return fallback;
    } catch {
      return fallback;
    }
  };
  return {
    get stalled() {
      return stalled;
    },
    within,
    evaluate: <T>(expression: string, fallback: T, timeoutMs = EVALUATE_TIMEOUT_MS) =>
      stalled ? Promise.resolve(fallback) : (within(page.evaluate(expression) as Promise<T>, timeoutMs, fallback) as Promise<T>),
  };
}
