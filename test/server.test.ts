import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery, databaseUrl, TEST_DATABASE_URL } from './helpers/database.js';
import { buildDist, freePort, ROOT, spawnEntry, stop, waitForHealth } from './helpers/process.js';
import { redisNamespace } from './helpers/redis.js';
import { s3Server } from './helpers/s3.js';

// Each case starts real server processes; the budget is for a loaded CI machine, a quiet one needs a fraction.
const PROCESS_TIMEOUT = 180_000;

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'burrow-server-'));
  tempDirs.push(dir);
  return dir;
}
// The server as `npm start` runs it: compiled to dist/, then plain node.
beforeAll(buildDist, PROCESS_TIMEOUT);
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

interface Credentials {
  email: string;
  password: string;
  personal_api_key: string;
  organization_id: string;
  project_id: number;
}

const readCredentials = async (dir: string): Promise<Credentials> =>
  JSON.parse(await fs.readFile(path.join(dir, 'initial-credentials.json'), 'utf8')) as Credentials;

async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const server = spawnEntry('dist/server.js', { PORT: String(port), WORKERS: 'off', ...env });
  await waitForHealth(port, server);
  return { server, port, url: (p: string) => `http://127.0.0.1:${port}${p}` };
}

describe('npm run build', { timeout: PROCESS_TIMEOUT }, () => {
  const dist = path.join(ROOT, 'dist');
  const stampFile = path.join(dist, '.source-hash');
  const serverIno = async () => (await fs.stat(path.join(dist, 'server.js'))).ino;

  it('leaves dist/ alone when it was built from the sources there now, and rebuilds it when not', async () => {
    const hash = await fs.readFile(stampFile, 'utf8');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const before = await serverIno();
    await buildDist();
    expect(await serverIno()).toBe(before);

    await fs.writeFile(stampFile, 'built from other sources');
    await buildDist();
    expect(await serverIno()).not.toBe(before);
    expect(await fs.readFile(stampFile, 'utf8')).toBe(hash);
  });

  it('lets two builds of an out-of-date dist/ run at once (a server and a worker started together)', async () => {
    const hash = await fs.readFile(stampFile, 'utf8');
    await fs.writeFile(stampFile, 'built from other sources');
    await Promise.all([buildDist(), buildDist()]);
    expect(await fs.readFile(stampFile, 'utf8')).toBe(hash);
    const leftovers = (await fs.readdir(ROOT)).filter((name) => name.startsWith('dist.'));
    expect(leftovers).toEqual([]);
    const server = await startServer({ DATA_DIR: await tempDir() });
    expect(await stop(server.server)).toBe(0);
  });
});

describe('npm start on the embedded database', { timeout: PROCESS_TIMEOUT }, () => {
  it('creates the first account once, writes its credentials privately, and serves the API', async () => {
    const dataDir = await tempDir();
    const first = await startServer({ DATA_DIR: dataDir });
    try {
      const file = path.join(dataDir, 'initial-credentials.json');
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      const credentials = await readCredentials(dataDir);
      expect(Object.keys(credentials)).toEqual(['email', 'password', 'personal_api_key', 'organization_id', 'project_id']);
      expect(credentials).toMatchObject({ email: 'admin@localhost', project_id: 1 });
      expect(credentials.personal_api_key).toMatch(/^phx_/);
      expect(first.server.output()).toContain(credentials.password);

      const project = await fetch(first.url('/api/projects/@current/'), { headers: { authorization: `Bearer ${credentials.personal_api_key}` } });
      expect(project.status).toBe(200);
      expect(await project.json()).toMatchObject({ id: 1, organization: credentials.organization_id });

      const login = await fetch(first.url('/api/login/'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: credentials.email, password: credentials.password }),
      });
      expect(login.status).toBe(200);
    } finally {
      expect(await stop(first.server)).toBe(0);
    }

    const before = await fs.readFile(path.join(dataDir, 'initial-credentials.json'), 'utf8');
    const second = await startServer({ DATA_DIR: dataDir });
    try {
      expect(second.server.output()).not.toContain('created its first account');
      expect(await fs.readFile(path.join(dataDir, 'initial-credentials.json'), 'utf8')).toBe(before);
      const { personal_api_key } = JSON.parse(before) as Credentials;
      const me = await fetch(second.url('/api/users/@me/'), { headers: { authorization: `Bearer ${personal_api_key}` } });
      expect(me.status).toBe(200);
    } finally {
      await stop(second.server);
    }
  });

  it('loads Playwright and sharp only when it renders: a server at rest holds neither', async () => {
    const dataDir = await tempDir();
    const importLog = path.join(dataDir, 'imports.log');
    const server = await startServer({
      DATA_DIR: dataDir,
      WORKERS: 'on',
      IMPORT_LOG: importLog,
      NODE_OPTIONS: `--import=${path.join(ROOT, 'test/fixtures/record-imports.mjs')}`,
    });
    try {
      const { personal_api_key } = await readCredentials(dataDir);
      for (const endpoint of ['/api/users/@me/', '/api/projects/@current/', '/api/projects/@current/saved/']) {
        const response = await fetch(server.url(endpoint), { headers: { authorization: `Bearer ${personal_api_key}` } });
        expect(response.status, endpoint).toBe(200);
      }
      const loaded = (await fs.readFile(importLog, 'utf8')).split('\n');
      expect(loaded.some((url) => url.includes('/node_modules/fastify/'))).toBe(true);
      expect(loaded.filter((url) => /\/node_modules\/(playwright-core|sharp|@img)\//.test(url))).toEqual([]);
    } finally {
      expect(await stop(server.server)).toBe(0);
    }
  });

  it('creates nothing with BOOTSTRAP=false', async () => {
    const dataDir = await tempDir();
    const server = await startServer({ DATA_DIR: dataDir, BOOTSTRAP: 'false' });
    try {
      await expect(fs.stat(path.join(dataDir, 'initial-credentials.json'))).rejects.toThrow();
      const signup = await fetch(server.url('/api/signup/'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ first_name: 'First', email: 'first@example.com', password: 'correct horse battery staple 42' }),
      });
      expect(signup.status).toBe(201);
    } finally {
      await stop(server.server);
    }
  });

  it('starts while the Redis of REDIS_URL is down, warns, serves, and exits cleanly', async () => {
    const dataDir = await tempDir();
    const server = await startServer({ DATA_DIR: dataDir, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      const { personal_api_key } = await readCredentials(dataDir);
      const me = await fetch(server.url('/api/users/@me/'), { headers: { authorization: `Bearer ${personal_api_key}` } });
      expect(me.status).toBe(200);
      expect(server.server.output()).toContain('Redis is unavailable: throttling and failed-login counters are per process');
    } finally {
      expect(await stop(server.server)).toBe(0);
    }
  });

  it('refuses to start with an invalid setting, naming it', async () => {
    const spawned = spawnEntry('dist/server.js', { DATA_DIR: await tempDir(), PORT: 'eighty', SIGNUP_ENABLED: 'maybe', REDIS_URL: 'http://cache:6379' });
    expect(await spawned.exited).not.toBe(0);
    expect(spawned.output()).toContain('PORT:');
    expect(spawned.output()).toContain('SIGNUP_ENABLED:');
    expect(spawned.output()).toContain('REDIS_URL: must be a redis:// or rediss:// URL');
  });

  it('refuses to start with BLOB_STORE=s3 on a bucket it cannot use, and starts on one it can', async () => {
    const s3 = await s3Server();
    try {
      const refused = spawnEntry('dist/server.js', { DATA_DIR: await tempDir(), ...s3.env, S3_BUCKET: 'no-such-bucket' });
      expect(await refused.exited).toBe(78);
      expect(refused.output()).toContain(`BLOB_STORE=s3 cannot use bucket "no-such-bucket" at ${s3.endpoint}: it does not exist`);
      const server = await startServer({ DATA_DIR: await tempDir(), ...s3.env });
      expect(await stop(server.server)).toBe(0);
    } finally {
      await s3.close();
    }
  });
});

describe.runIf(TEST_DATABASE_URL)('npm start on Postgres', { timeout: PROCESS_TIMEOUT }, () => {
  it('lets two processes start together on an empty database: one migration, one first account', async () => {
    const name = `burrow_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    const url = databaseUrl(TEST_DATABASE_URL!, name);
    const dirs = [await tempDir(), await tempDir()];
    const servers = await Promise.all(dirs.map((dir) => startServer({ DATA_DIR: dir, DATABASE_URL: url })));
    try {
      const written = await Promise.all(dirs.map((dir) => readCredentials(dir).then(() => true, () => false)));
      expect(written.filter(Boolean)).toHaveLength(1);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const users = await client.query<{ n: string }>('select count(*) as n from users');
        expect(Number(users.rows[0]!.n)).toBe(1);
        const migrations = await client.query<{ n: string }>('select count(*) as n from drizzle.__drizzle_migrations');
        const expected = (await fs.readdir(path.resolve('migrations'))).filter((f) => f.endsWith('.sql')).length;
        expect(Number(migrations.rows[0]!.n)).toBe(expected);
      } finally {
        await client.end();
      }
      const credentials = await readCredentials(dirs[written.indexOf(true)]!);
      for (const { url: at } of servers) {
        const response = await fetch(at('/api/projects/@current/'), { headers: { authorization: `Bearer ${credentials.personal_api_key}` } });
        expect(response.status).toBe(200);
      }
    } finally {
      await Promise.all(servers.map((s) => stop(s.server)));
      await adminQuery(`drop database if exists ${name} with (force)`);
    }
  });

  it("gives a key one budget across processes with REDIS_URL, and each exits cleanly", async () => {
    const name = `burrow_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    const redis = redisNamespace();
    const dir = await tempDir();
    const env = { DATA_DIR: dir, DATABASE_URL: databaseUrl(TEST_DATABASE_URL!, name), REDIS_URL: redis.url, RATE_LIMIT_BURST_PER_MINUTE: '3' };
    const first = await startServer(env);
    const second = await startServer({ ...env, DATA_DIR: await tempDir() });
    try {
      const { personal_api_key } = await readCredentials(dir);
      const get = (server: typeof first) => fetch(server.url('/api/users/@me/'), { headers: { authorization: `Bearer ${personal_api_key}` } });
      const statuses = [];
      for (const server of [first, second, first, second, first]) statuses.push((await get(server)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      expect(await stop(first.server)).toBe(0);
      expect(await stop(second.server)).toBe(0);
      await adminQuery(`drop database if exists ${name} with (force)`);
      await redis.clean();
    }
  });
});
