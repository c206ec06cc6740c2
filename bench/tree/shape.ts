/**
 * A project tree in a realistic shape, for bench/tree/run.ts: deterministic (seeded), any size.
 *
 * - 12 top-level folders; below them folders nest up to FOLDER_DEPTH_LIMIT levels (items one level deeper), each
 *   folder holding 15-140 items and as many subfolders as its share of the rows needs. The bigger the tree, the deeper
 *   and bushier it gets; a folder's own number of direct children does not grow with the tree.
 * - The first top-level folder (MAIN_FOLDER) holds exactly MAIN_FOLDER_ITEMS items plus its subfolders in every tree,
 *   so the folder listing compares folders of about the same size (both fill a 101-row page).
 * - Names are 40-120 characters, with spaces; about one item name in ten and some folder names hold a "/" (stored
 *   escaped as "\/").
 * - Items are insights, dashboards, feature flags, notebooks and heatmaps, with PostHog's refs and hrefs, meta
 *   {created_at, created_by} and created_by_id; folders are rows of type "folder" without ref, href or meta, as
 *   Burrow creates missing parents. Depth is the number of segments (paths.ts's splitPath); every ancestor exists.
 * - SEARCH_WORD appears in about 2.5% of item names (never in folder names or types).
 */
import { ancestorPaths, escapePath, joinPath, pathDepth } from '../../src/modules/file-system/paths.js';
import { mulberry32 } from '../lib/random.js';

export const MAIN_FOLDER = 'Product analytics — core metrics, activation & retention reviews for the leadership team';
export const MAIN_FOLDER_ITEMS = 120;
export const SEARCH_WORD = 'funnel';
/** Folders nest at most this deep (top level = 1); items sit at most one level deeper. */
export const FOLDER_DEPTH_LIMIT = 5;

export interface TreeRow {
  path: string;
  depth: number;
  type: string;
  ref: string | null;
  href: string | null;
  meta: Record<string, unknown>;
  createdAt: string;
}

const TOP_LEVEL = [
  MAIN_FOLDER,
  'Growth team — onboarding experiments and acquisition channel attribution (2024 H2)',
  'Marketing site & campaigns: landing pages, paid social, newsletters and SEO reports',
  'Mobile apps — iOS/Android release health, crash-free sessions and store conversions',
  'Billing, pricing and revenue analytics shared with finance and the founders',
  'Customer success: account health scores, churn risk and quarterly business reviews',
  'Data engineering sandbox — pipeline checks, warehouse syncs and schema migrations',
  'Support & operations dashboards for the on-call rotation and incident reviews',
  'Design research: usability studies, session replays and heatmaps of key flows',
  'Platform and infrastructure — API latency, error budgets and capacity planning',
  'Archive (do not edit) — dashboards and insights from the 2022 and 2023 planning cycles',
  'Unfiled/Imported — objects created before the project tree existed, awaiting triage',
];

const FOLDER_WORDS = {
  subject: ['Onboarding', 'Checkout', 'Search', 'Notifications', 'Team workspaces', 'Integrations', 'Mobile web', 'Self-serve signup', 'Enterprise accounts', 'Referral programme', 'Data exports', 'Billing portal', 'Permissions & roles', 'Public API', 'Dashboards v2', 'Activation', 'Reporting'],
  kind: ['experiments', 'weekly reviews', 'launch readiness', 'quality metrics', 'deep dives', 'OKR tracking', 'post-mortems', 'customer interviews', 'A/B tests', 'feature rollouts', 'regional rollouts', 'health checks'],
  detail: ['owned by the core product squad', 'shared with sales and marketing', 'for the Monday leadership sync', 'kept for the annual audit', 'drafts — work in progress', 'from the Q3 planning offsite', 'curated by the analytics guild', 'with the mobile and web teams'],
};

const ITEM_WORDS = {
  adjective: ['Weekly', 'Daily', 'Monthly', 'Rolling 28-day', 'Quarterly', 'Cumulative', 'Median', 'p95', 'Year-over-year', 'Cohorted', 'New vs returning', 'Trailing 7-day'],
  // One in 40 metrics holds SEARCH_WORD: about 2.5% of items.
  metric: [
    'active users', 'signups', 'page views', 'session duration', 'revenue per account', 'trial conversions', 'churned accounts', 'support tickets',
    'feature adoption', 'API requests', 'error rate', 'time to first value', 'invites sent', 'dashboards created', 'NPS responses', 'search queries',
    'checkout completions', 'cart abandonment', 'email open rate', 'push notification clicks', 'retention by cohort', 'stickiness', 'upgrade rate', 'seat utilisation',
    'pageleave events', 'rage clicks', 'dead clicks', 'web vitals (LCP/INP)', 'exceptions captured', 'replays watched', 'flags evaluated', 'experiments shipped',
    'survey responses', 'onboarding completion', 'activation milestones', 'expansion revenue', 'refund requests', 'invoice payments', 'SDK versions in use', 'signup funnel drop-off',
  ],
  dimension: ['country', 'plan', 'browser', 'device type', 'referring domain', 'UTM campaign', 'organisation size', 'app version', 'operating system', 'signup cohort', 'pricing experiment variant', 'account manager'],
  suffix: ['(excluding internal users)', '— EU/US split', '(last 90 days)', 'for the board deck', '— v2, do not delete', '(paid plans only)', 'with test accounts filtered', '— draft', '(mobile apps)', 'since the pricing change', '', '', ''],
};

const ITEM_TYPES: { type: string; weight: number; href: (team: number, ref: string) => string; ref: (r: () => number, n: number) => string }[] = [
  { type: 'insight', weight: 55, href: (t, ref) => `/project/${t}/insights/${ref}`, ref: (r) => shortId(r) },
  { type: 'dashboard', weight: 12, href: (t, ref) => `/project/${t}/dashboard/${ref}`, ref: (_r, n) => String(n) },
  { type: 'feature_flag', weight: 15, href: (t, ref) => `/project/${t}/feature_flags/${ref}`, ref: (_r, n) => String(n) },
  { type: 'notebook', weight: 10, href: (t, ref) => `/project/${t}/notebooks/${ref}`, ref: (r) => shortId(r) },
  { type: 'heatmap', weight: 8, href: (t, ref) => `/project/${t}/heatmaps/${ref}`, ref: (r) => shortId(r) },
];
const TYPE_WEIGHT = ITEM_TYPES.reduce((n, t) => n + t.weight, 0);

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function shortId(r: () => number): string {
  let id = '';
  for (let i = 0; i < 8; i++) id += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return id;
}

export interface GenerateOptions {
  rows: number;
  teamId: number;
  userId: number;
  seed?: number;
}

/** Exactly `rows` rows: folders first within each folder's subtree (parents before children). */
export function generateTree({ rows, teamId, userId, seed = 1 }: GenerateOptions): TreeRow[] {
  if (rows < TOP_LEVEL.length + MAIN_FOLDER_ITEMS) throw new Error(`a tree needs at least ${TOP_LEVEL.length + MAIN_FOLDER_ITEMS} rows`);
  const r = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: TreeRow[] = [];
  const taken = new Set<string>();
  const now = Date.parse('2026-11-01T00:00:00Z');
  let serial = 1;

  /** A name of 40-120 characters; `grow` adds words until it is long enough. */
  const fit = (build: () => string): string => {
    for (;;) {
      const name = build().replace(/\s+/g, ' ').trim();
      if (name.length >= 40 && name.length <= 120) return name;
    }
  };
  const folderName = () => fit(() => `${pick(FOLDER_WORDS.subject)} ${pick(FOLDER_WORDS.kind)} ${r() < 0.6 ? `— ${pick(FOLDER_WORDS.detail)}` : ''}`);
  const itemName = () =>
    fit(() => `${pick(ITEM_WORDS.adjective)} ${pick(ITEM_WORDS.metric)} by ${pick(ITEM_WORDS.dimension)} ${pick(ITEM_WORDS.suffix)} ${r() < 0.5 ? `#${int(1, 999)}` : ''}`);

  /** A path not used yet in this tree (two siblings may draw the same name). */
  const unique = (parent: string[], name: string): string[] => {
    const prefix = parent.length === 0 ? '' : `${joinPath(parent)}/`;
    let candidate = name;
    for (let n = 2; taken.has(prefix + escapePath(candidate)); n++) candidate = `${name} (${n})`;
    taken.add(prefix + escapePath(candidate));
    return [...parent, candidate];
  };

  const createdAt = () => new Date(now - Math.floor(r() * 730 * 86400_000)).toISOString();

  const folder = (segments: string[]) => {
    const path = joinPath(segments);
    out.push({ path, depth: segments.length, type: 'folder', ref: null, href: null, meta: {}, createdAt: createdAt() });
  };

  const item = (parent: string[]) => {
    const segments = unique(parent, itemName());
    let w = r() * TYPE_WEIGHT;
    const kind = ITEM_TYPES.find((t) => (w -= t.weight) < 0) ?? ITEM_TYPES[0]!;
    const ref = kind.ref(r, serial++);
    const at = createdAt();
    out.push({
      path: joinPath(segments),
      depth: segments.length,
      type: kind.type,
      ref,
      href: kind.href(teamId, ref),
      meta: { created_at: at, created_by: userId },
      createdAt: at,
    });
  };

  /** The most rows a folder at this depth may hold below it, so that nothing nests deeper than the limit. */
  const capacity = (depth: number): number => (depth >= FOLDER_DEPTH_LIMIT ? 140 : 60 + 8 * capacity(depth + 1));

  /** Exactly `budget` rows below the folder at `segments`. */
  const fill = (segments: string[], budget: number, items?: number) => {
    const depth = segments.length;
    const own = depth >= FOLDER_DEPTH_LIMIT ? budget : Math.min(budget, items ?? int(15, 140));
    for (let i = 0; i < own; i++) item(segments);
    const rest = budget - own;
    if (rest <= 0) return;
    let subfolders = Math.max(1, Math.round(rest / int(80, 600)));
    subfolders = Math.max(subfolders, Math.ceil(rest / (capacity(depth + 1) + 1)));
    subfolders = Math.min(subfolders, rest);
    const weights = Array.from({ length: subfolders }, () => 0.3 + r() * 1.4);
    const total = weights.reduce((a, b) => a + b, 0);
    const budgets = weights.map((w) => Math.max(1, Math.floor((rest * w) / total)));
    // Rounding: hand out (or take back) the difference one row at a time.
    let diff = rest - budgets.reduce((a, b) => a + b, 0);
    for (let i = 0; diff !== 0; i = (i + 1) % budgets.length) {
      if (diff > 0) {
        budgets[i]!++;
        diff--;
      } else if (budgets[i]! > 1) {
        budgets[i]!--;
        diff++;
      }
    }
    for (const b of budgets) {
      const sub = unique(segments, folderName());
      folder(sub);
      fill(sub, b - 1);
    }
  };

  // Top-level folders share the rows (the main one gets its fixed items on top of an average share).
  const below = rows - TOP_LEVEL.length;
  const weights = TOP_LEVEL.map(() => 0.4 + r() * 1.2);
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor(((below - MAIN_FOLDER_ITEMS) * w) / total));
  shares[0]! += MAIN_FOLDER_ITEMS + (below - MAIN_FOLDER_ITEMS - shares.reduce((a, b) => a + b, 0));
  TOP_LEVEL.forEach((name, i) => {
    const segments = unique([], name);
    folder(segments);
    fill(segments, shares[i]!, i === 0 ? MAIN_FOLDER_ITEMS : undefined);
  });

  if (out.length !== rows) throw new Error(`generated ${out.length} rows, wanted ${rows}`);
  return out;
}

export interface TreeStats {
  rows: number;
  folders: number;
  byType: Record<string, number>;
  byDepth: Record<number, number>;
  maxChildren: number;
  /** Direct children of MAIN_FOLDER. */
  mainChildren: number;
  nameLength: { min: number; max: number };
  pathLength: { avg: number; max: number };
  pathsWithEscapedSlash: number;
  searchMatches: number;
}

/** Checks what the bench relies on (depths, ancestors) and describes the tree. */
export function describeTree(rows: TreeRow[]): TreeStats {
  const folders = new Set(rows.filter((row) => row.type === 'folder').map((row) => row.path));
  const children = new Map<string, number>();
  const byType: Record<string, number> = {};
  const byDepth: Record<number, number> = {};
  let nameMin = Infinity;
  let nameMax = 0;
  let pathTotal = 0;
  let pathMax = 0;
  let escaped = 0;
  let matches = 0;
  for (const row of rows) {
    if (pathDepth(row.path) !== row.depth) throw new Error(`depth ${row.depth} of ${row.path} is not its segment count`);
    const ancestors = ancestorPaths(row.path);
    for (const ancestor of ancestors) if (!folders.has(ancestor)) throw new Error(`no folder row for ${ancestor}, parent of ${row.path}`);
    const parent = ancestors.at(-1) ?? '';
    children.set(parent, (children.get(parent) ?? 0) + 1);
    byType[row.type] = (byType[row.type] ?? 0) + 1;
    byDepth[row.depth] = (byDepth[row.depth] ?? 0) + 1;
    const name = row.path.slice(parent === '' ? 0 : parent.length + 1).replace(/\\(.)/g, '$1');
    nameMin = Math.min(nameMin, name.length);
    nameMax = Math.max(nameMax, name.length);
    pathTotal += row.path.length;
    pathMax = Math.max(pathMax, row.path.length);
    if (row.path.includes('\\/')) escaped++;
    if (row.path.toLowerCase().includes(SEARCH_WORD)) matches++;
  }
  return {
    rows: rows.length,
    folders: folders.size,
    byType,
    byDepth,
    maxChildren: Math.max(...[...children.entries()].filter(([p]) => p !== '').map(([, n]) => n)),
    mainChildren: children.get(joinPath([MAIN_FOLDER])) ?? 0,
    nameLength: { min: nameMin, max: nameMax },
    pathLength: { avg: Math.round(pathTotal / rows.length), max: pathMax },
    pathsWithEscapedSlash: escaped,
    searchMatches: matches,
  };
}
