// Loaded before the worker (node --import ./bench/exports/memory-probe.mjs dist/worker.js): every 50 ms, one line on
// stderr with the process's own memory, which bench/exports/csv.ts reads. The timer does not keep the process alive.
const INTERVAL_MS = 50;
setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(`bench-memory ${Date.now()} ${m.rss} ${m.heapUsed} ${m.external} ${m.arrayBuffers}\n`);
}, INTERVAL_MS).unref();
