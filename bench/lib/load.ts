/** Load with autocannon and the figures the benchmarks print: requests/s (2xx only), p50, p99, medians, ratios. */
import autocannon, { type Result } from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  headers?: Record<string, string>;
  /** Seconds before autocannon gives a request up (and counts an error); autocannon's default is 10. */
  timeout?: number;
}

export async function load(options: LoadOptions): Promise<Result> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    headers: options.headers ?? {},
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
  // autocannon stops with requests still in flight (their sockets closed): let the server finish them, so they
  // neither compete with the next run nor are cut off by the shutdown at the end.
  await new Promise((r) => setTimeout(r, 1000));
  return result;
}

export interface Figures {
  target: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
}

export function figures(target: string, round: number, r: Result): Figures {
  return {
    target,
    round,
    // Successful requests per second: a fast 4xx/5xx must not count as throughput.
    rps: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    requests: r['2xx'] + r.non2xx,
  };
}

/** The median; NaN for no values. */
export const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export interface Summary {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Medians of one target's rounds; non-2xx and errors are summed. */
export function summarize(runs: Figures[]): Summary {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

/** One round's line, as the benchmarks print it while they run. */
export function roundLine(f: Figures, width = 8): string {
  return `  round ${f.round} ${f.target.padEnd(width)} ${f.rps.toFixed(0).padStart(7)} req/s  p50 ${String(f.p50).padStart(4)} ms  p99 ${String(f.p99).padStart(4)} ms  non-2xx ${f.non2xx}  errors ${f.errors}`;
}

/** A figure with `digits` decimals, or "-" for none (null, NaN, infinite). */
export const fmt = (n: number | null, digits = 0): string => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

/** n/d as "1.23x", or "-" when d is 0. */
export const ratio = (n: number, d: number): string => (d === 0 ? '-' : `${(n / d).toFixed(2)}x`);

/**
 * A, B, B, A, ...: the order of round `round` (1-based) over `targets`, so that a drift in machine load does not
 * favour one side.
 */
export function alternate<T>(targets: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...targets] : [...targets].reverse();
}
