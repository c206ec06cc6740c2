/**
 * Memory of a process and everything below it (a server and its Chromium, the baseline and its Chromiums),
 * sampled from /proc (Linux only).
 *
 * Two figures per sample:
 * - RSS sum: the resident set of every process of the tree, added up. It counts pages shared between processes
 *   (Chromium's 200+ MB binary, mapped by each of its processes) once per process, so it overstates what the tree
 *   really holds; it is the conservative figure.
 * - PSS sum: each process's proportional set size (smaps_rollup), where a shared page is divided among the
 *   processes that map it. Closer to what the tree costs the machine; slightly under it when processes outside
 *   the tree (another Chromium on the machine) share the same pages.
 * The tree is found by parent pid. Chromium's crashpad handlers detach themselves (their parent is init), so they
 * are not counted: about 4 MB each, two per browser.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const PAGE_KB = 4; // x86_64 and arm64 Linux with 4 KiB pages; statm/stat report pages

interface ProcEntry {
  pid: number;
  ppid: number;
  rssKb: number;
  /** User + system CPU time so far, in clock ticks (1/100 s on Linux). */
  cpuTicks: number;
}

function scanProc(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid ..."; comm may contain spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    entries.push({ pid: Number(name), ppid: Number(fields[1]), rssKb: Number(fields[21]) * PAGE_KB, cpuTicks: Number(fields[11]) + Number(fields[12]) });
  }
  return entries;
}

/** The root and all its descendants, from one scan. */
function treeOf(root: number, entries: ProcEntry[]): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  for (const e of entries) {
    const list = children.get(e.ppid);
    if (list) list.push(e);
    else children.set(e.ppid, [e]);
  }
  const rootEntry = entries.find((e) => e.pid === root);
  if (!rootEntry) return [];
  const out: ProcEntry[] = [];
  const stack = [rootEntry];
  while (stack.length > 0) {
    const e = stack.pop()!;
    out.push(e);
    stack.push(...(children.get(e.pid) ?? []));
  }
  return out;
}

async function pssKb(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export interface MemoryPeak {
  /** Highest RSS sum of the tree, MiB. */
  peakRssMib: number;
  /** Processes in the tree at that moment. */
  processesAtPeak: number;
  /** The root process's own RSS at that moment, MiB (the server or the baseline script without its Chromium). */
  rootRssAtPeakMib: number;
  /** Highest PSS sum, MiB (sampled every pssEvery-th tick, so it may miss a short spike). */
  peakPssMib: number;
  /** That sum by kind of process ("node", "browser", "gpu-process", "renderer x5", ...), MiB. */
  pssAtPeakByKind: Record<string, number>;
  /** Most processes seen in the tree at once. */
  maxProcesses: number;
  samples: number;
  /**
   * CPU time the tree used while sampled, seconds: for each process, its last sampled user + system time minus the
   * first (a process that exits loses at most one interval).
   */
  cpuSeconds: number;
  /** The root process's share of cpuSeconds (the Node process: server or baseline script). */
  rootCpuSeconds: number;
  /** cpuSeconds by kind of process, as pssAtPeakByKind. */
  cpuByKind: Record<string, number>;
}

export interface TreeSampler {
  stop(): MemoryPeak;
  /** Every pid seen in the tree except the root, with its command line when first seen (for clean-up). */
  readonly seen: ReadonlyMap<number, string>;
}

/** Samples the tree under `root` every intervalMs (RSS) and every pssEvery-th tick (PSS) until stop(). */
export function sampleTree(root: number, options: { intervalMs?: number; pssEvery?: number } = {}): TreeSampler {
  const intervalMs = options.intervalMs ?? 100;
  const pssEvery = options.pssEvery ?? 5;
  const peak: MemoryPeak = {
    peakRssMib: 0,
    processesAtPeak: 0,
    rootRssAtPeakMib: 0,
    peakPssMib: 0,
    pssAtPeakByKind: {},
    maxProcesses: 0,
    samples: 0,
    cpuSeconds: 0,
    rootCpuSeconds: 0,
    cpuByKind: {},
  };
  /** Per pid, its kind of process as of the last PSS sample (see processKind). */
  const kinds = new Map<number, string>();
  /** Per pid: CPU ticks at the first and the last sample. */
  const cpu = new Map<number, { first: number; last: number }>();
  let firstSample = true;
  const seen = new Map<number, string>();
  let tick = 0;
  let pssBusy = false;

  const sample = () => {
    const tree = treeOf(root, scanProc());
    if (tree.length === 0) return;
    peak.samples++;
    const rssKb = tree.reduce((n, e) => n + e.rssKb, 0);
    const rssMib = rssKb / 1024;
    if (rssMib > peak.peakRssMib) {
      peak.peakRssMib = rssMib;
      peak.processesAtPeak = tree.length;
      peak.rootRssAtPeakMib = (tree.find((e) => e.pid === root)?.rssKb ?? 0) / 1024;
    }
    peak.maxProcesses = Math.max(peak.maxProcesses, tree.length);
    for (const e of tree) {
      const seenCpu = cpu.get(e.pid);
      // A process born after the first sample counts from zero; those there at the start count from then.
      if (seenCpu) seenCpu.last = e.cpuTicks;
      else cpu.set(e.pid, { first: firstSample ? e.cpuTicks : 0, last: e.cpuTicks });
    }
    firstSample = false;
    for (const e of tree) {
      if (e.pid === root || seen.has(e.pid)) continue;
      seen.set(e.pid, cmdlineOf(e.pid));
    }
    if (tick++ % pssEvery === 0 && !pssBusy) {
      // The command line now, not as first seen: a renderer forked from the zygote starts with the zygote's.
      for (const e of tree) kinds.set(e.pid, e.pid === root ? 'node' : processKind(cmdlineOf(e.pid)));
      pssBusy = true;
      void Promise.all(tree.map((e) => pssKb(e.pid)))
        .then((values) => {
          const sumMib = values.reduce((a, b) => a + b, 0) / 1024;
          if (sumMib <= peak.peakPssMib) return;
          peak.peakPssMib = sumMib;
          peak.pssAtPeakByKind = byKind(tree.map((e, i) => ({ kind: kinds.get(e.pid) ?? 'other', value: (values[i] ?? 0) / 1024 })));
        })
        .finally(() => {
          pssBusy = false;
        });
    }
  };

  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    seen,
    stop() {
      clearInterval(timer);
      sample();
      let ticks = 0;
      for (const { first, last } of cpu.values()) ticks += last - first;
      const own = cpu.get(root);
      const cpuByKind = byKind([...cpu].map(([pid, { first, last }]) => ({ kind: kinds.get(pid) ?? 'other', value: (last - first) / 100 })));
      return { ...peak, cpuSeconds: ticks / 100, rootCpuSeconds: own ? (own.last - own.first) / 100 : 0, cpuByKind };
    },
  };
}

/** The process's command line, words joined by spaces ('' once it is gone). */
function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** Chromium's process type from its command line (`--type=renderer`, `--utility-sub-type=...`); the browser has none. */
function processKind(cmdline: string): string {
  const type = /--type=(\S+)/.exec(cmdline)?.[1];
  if (type === undefined) return cmdline.includes('chrom') ? 'browser' : 'other';
  const sub = /--utility-sub-type=(?:[\w.]+\.)?(\w+)/.exec(cmdline)?.[1];
  return sub ? `${type} ${sub}` : type;
}

/** Values added up by kind, largest first, keyed "kind xN" when N processes share it. */
function byKind(processes: { kind: string; value: number }[]): Record<string, number> {
  const groups = new Map<string, { count: number; value: number }>();
  for (const { kind, value } of processes) {
    const group = groups.get(kind) ?? { count: 0, value: 0 };
    group.count++;
    group.value += value;
    groups.set(kind, group);
  }
  return Object.fromEntries(
    [...groups].sort((a, b) => b[1].value - a[1].value).map(([kind, g]) => [g.count > 1 ? `${kind} x${g.count}` : kind, Math.round(g.value * 10) / 10]),
  );
}

/** Whether pid is still a process running the program recorded for it (not a reused pid). */
export function stillRunning(pid: number, cmdline: string): boolean {
  // The program, not the whole line: Chromium rewrites its children's command lines (a renderer forked from the
  // zygote starts with the zygote's).
  const program = (line: string) => line.split(' ')[0];
  return cmdline !== '' && program(cmdlineOf(pid)) === program(cmdline);
}
