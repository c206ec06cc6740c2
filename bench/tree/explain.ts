/**
 * `npm run bench:tree -- --explain`: where a request's time goes, without HTTP. Burrow's own services (createContainer,
 * the same code the server runs) are built in this process on the bench database, with a drizzle logger that records
 * every statement they send. For each scenario it then
 *
 *   - times the service call (sequentially, after a warm-up): wall time and this process's CPU time per call, which
 *     covers drizzle building the SQL, node-postgres and the mapping of rows, but not routing, validation or the
 *     response serializer (see --cpu-prof for those);
 *   - runs EXPLAIN (ANALYZE, BUFFERS) of each recorded statement with its recorded parameters.
 *
 * The key and team caches are warm, as in the load runs, so no authentication queries are recorded.
 */
import os from 'node:os';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { createContainer } from '../../src/container.js';
import type { Database, Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema/index.js';
import { PaginationQuery, pageParams } from '../../src/http/pagination.js';
import { FileSystemListQuery } from '../../src/modules/file-system/contract.js';
import { createFileSystemRepository } from '../../src/modules/file-system/repository.js';
import { createFileSystemService } from '../../src/modules/file-system/service.js';
import { createPersistedFoldersRepository } from '../../src/modules/persisted-folders/repository.js';
import { createPersistedFoldersService } from '../../src/modules/persisted-folders/service.js';
import { createShortcutsModule } from '../../src/modules/shortcuts/index.js';
import { log } from '../lib/harness.js';

export interface ExplainTarget {
  label: string;
  kind: 'tree' | 'persisted';
  teamId: number;
  /** The query string the load runs send. */
  query: string;
}

export interface ExplainedStatement {
  sql: string;
  params: unknown[];
  executionMs: number | null;
  planningMs: number | null;
  plan: string[];
}

export interface Explained {
  label: string;
  query: string;
  wallMsPerCall: number;
  cpuMsPerCall: number;
  statements: ExplainedStatement[];
}

export async function explainTargets(options: { url: string; key: string; targets: ExplainTarget[]; calls?: number }): Promise<Explained[]> {
  const calls = options.calls ?? 100;
  // As Burrow opens its pool (src/db/client.ts).
  const pool = new pg.Pool({ connectionString: options.url, max: 4, options: '-c TimeZone=UTC' });
  let recorded: { sql: string; params: unknown[] }[] | null = null;
  const db = drizzle(pool, {
    schema,
    logger: {
      logQuery(sql: string, params: unknown[]) {
        recorded?.push({ sql, params });
      },
    },
  }) as unknown as Db;
  const database: Database = {
    db,
    kind: 'postgres',
    migrate: async () => undefined,
    withStartupLock: (fn) => fn(),
    ping: async () => undefined,
    listen: async () => async () => undefined,
    close: () => pool.end(),
  };
  const config = loadConfig({ ...process.env, DATABASE_URL: options.url, DATA_DIR: os.tmpdir(), LOG_LEVEL: 'silent', WORKERS: 'off', BOOTSTRAP: 'false' });
  const services = createContainer(database, config, pino({ level: 'silent' }));
  // The services behind the two routes, called without HTTP so that only their own work is measured.
  const tree = createFileSystemService({ db, files: createFileSystemRepository(db), shortcuts: createShortcutsModule({ db }).forTree, objectTypes: [] });
  const folders = createPersistedFoldersService({ persistedFolders: createPersistedFoldersRepository(db) });

  const results: Explained[] = [];
  try {
    const actor = await services.auth.authenticateKey(options.key, 'Authorization header');
    for (const target of options.targets) {
      const access = await services.auth.resolveTeam(actor, String(target.teamId));
      const query = Object.fromEntries(new URLSearchParams(target.query));
      const call = async () => {
        if (target.kind !== 'tree') return folders.list(access, actor, pageParams(PaginationQuery.parse(query)));
        const parsed = FileSystemListQuery.parse(query);
        return tree.list(access, actor, parsed, pageParams(parsed));
      };

      for (let i = 0; i < Math.min(20, calls); i++) await call();
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < calls; i++) await call();
      const wallMsPerCall = (performance.now() - started) / calls;
      const used = process.cpuUsage(cpu);
      const cpuMsPerCall = (used.user + used.system) / 1000 / calls;

      recorded = [];
      await call();
      const statements: ExplainedStatement[] = [];
      for (const { sql, params } of recorded) {
        const explained = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, params);
        const plan = explained.rows.map((r) => r['QUERY PLAN']);
        const ms = (label: string) => {
          const line = plan.find((l) => l.startsWith(label));
          return line ? Number(/([\d.]+) ms/.exec(line)?.[1] ?? Number.NaN) : null;
        };
        statements.push({ sql, params, executionMs: ms('Execution Time'), planningMs: ms('Planning Time'), plan });
      }
      recorded = null;
      results.push({ label: target.label, query: target.query, wallMsPerCall, cpuMsPerCall, statements });
    }
  } finally {
    await pool.end();
  }
  return results;
}

export function printExplained(results: Explained[]): void {
  for (const r of results) {
    log();
    log(`  ${r.label}${r.query ? `  ?${r.query}` : ''}`);
    log(`    service call: ${r.wallMsPerCall.toFixed(2)} ms wall, ${r.cpuMsPerCall.toFixed(2)} ms node CPU per call (sequential); ${r.statements.length} statement(s):`);
    r.statements.forEach((s, i) => {
      const params = JSON.stringify(s.params).replace(/\s+/g, ' ');
      log(`    [${i + 1}] execution ${s.executionMs?.toFixed(3) ?? '?'} ms, planning ${s.planningMs?.toFixed(3) ?? '?'} ms`);
      log(`        ${s.sql.replace(/\s+/g, ' ')}`);
      log(`        params ${params.length > 400 ? `${params.slice(0, 400)}...` : params}`);
      for (const line of s.plan) log(`        | ${line}`);
    });
  }
}
