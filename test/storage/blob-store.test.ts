import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, queryRows } from '../../src/db/client.js';
import { type BlobStore, createBlobStore } from '../../src/storage/index.js';
import { FILE_CHUNK_BYTES } from '../../src/storage/postgres-blob-store.js';
import { createS3BlobStore } from '../../src/storage/s3-blob-store.js';
import { openTestDatabase } from '../helpers/database.js';
import { type S3Server, s3Server } from '../helpers/s3.js';

const settingsOf = (server: S3Server, bucket = server.bucket) => ({
  endpoint: server.endpoint,
  bucket,
  region: 'us-east-1',
  credentials: {
    accessKeyId: server.env.S3_ACCESS_KEY_ID,
    secretAccessKey: server.env.S3_SECRET_ACCESS_KEY,
  },
  forcePathStyle: true,
});

describe.each(['postgres', 's3'] as const)('blob store: BLOB_STORE=%s', (kind) => {
  let database: Database;
  let server: S3Server;
  let store: BlobStore;

  beforeAll(async () => {
    database = await openTestDatabase();
    server = await s3Server();
    store = createBlobStore(kind === 's3' ? { kind, s3: settingsOf(server) } : { kind }, database.db);
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it('gives back the bytes it was given, and null for a key it does not have', async () => {
    const large = randomBytes(1024 * 1024);
    const binary = Buffer.from([0, 1, 2, 127, 128, 255]);
    await store.verify();
    await store.put([
      { key: 'recordings/1/large', body: large },
      { key: 'recordings/1/binary', body: binary },
      { key: 'recordings/1/empty', body: Buffer.alloc(0) },
    ]);
    expect((await store.get('recordings/1/large'))!.equals(large)).toBe(true);
    expect(await store.get('recordings/1/binary')).toEqual(binary);
    expect(await store.get('recordings/1/empty')).toEqual(Buffer.alloc(0));
    expect(await store.get('recordings/1/missing')).toBeNull();
  });

  it('stores a file of several pieces as it is, and nothing when the file cannot be read', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'burrow-blob-'));
    try {
      const content = randomBytes(FILE_CHUNK_BYTES * 2 + 12_345);
      await writeFile(path.join(dir, 'export.csv'), content);
      await store.putFile('exports/1/file', path.join(dir, 'export.csv'));
      expect((await store.get('exports/1/file'))!.equals(content)).toBe(true);
      await expect(store.putFile('exports/1/missing', path.join(dir, 'missing.csv'))).rejects.toThrow(/ENOENT/);
      expect(await store.get('exports/1/missing')).toBeNull();
      // The large object the Postgres store streams through is dropped, also when the file could not be read.
      const [objects] = await queryRows<{ n: number | string }>(database.db, sql`select count(*) as n from pg_largeobject_metadata`);
      expect(Number(objects!.n)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deletes what it has under the keys, in batches past a thousand, and ignores keys it does not have', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `recordings/2/${i}`);
    await store.put(keys.map((key) => ({ key, body: Buffer.from(key) })));
    await store.put([{ key: 'recordings/2/kept', body: Buffer.from('kept') }]);
    await store.delete([...keys, 'recordings/2/never-written']);
    expect(await store.get('recordings/2/0')).toBeNull();
    expect(await store.get('recordings/2/1004')).toBeNull();
    expect(await store.get('recordings/2/kept')).toEqual(Buffer.from('kept'));
    if (kind === 's3') expect(await server.keys('recordings/2/')).toEqual(['recordings/2/kept']);
  });

  it(kind === 'postgres' ? 'writes and deletes inside the caller’s transaction' : 'writes at once, whatever the caller’s transaction does', async () => {
    const rollback = new Error('rolled back');
    await expect(
      database.db.transaction(async (tx) => {
        await store.put([{ key: 'recordings/3/in-tx', body: Buffer.from('x') }], tx);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await store.get('recordings/3/in-tx')).toEqual(kind === 'postgres' ? null : Buffer.from('x'));
  });
});

describe('blob store: BLOB_STORE=s3 when the bucket cannot be used', () => {
  let server: S3Server;
  beforeAll(async () => {
    server = await s3Server();
  });
  afterAll(() => server.close());

  it('says at start that the bucket does not exist', async () => {
    await expect(createS3BlobStore(settingsOf(server, 'no-such-bucket')).verify()).rejects.toThrow(
      `BLOB_STORE=s3 cannot use bucket "no-such-bucket" at ${server.endpoint}: it does not exist`,
    );
  });

  it('says at start that the service does not answer, and works once it is back', async () => {
    const store = createS3BlobStore(settingsOf(server));
    await server.stop();
    await expect(store.verify()).rejects.toThrow(/BLOB_STORE=s3 cannot use bucket "burrow" at .*: connect ECONNREFUSED/);
    await server.start();
    await store.verify();
    await store.put([{ key: 'back', body: Buffer.from('again') }]);
    expect(await store.get('back')).toEqual(Buffer.from('again'));
  });
});

describe('blob store: switching from BLOB_STORE=postgres to s3', () => {
  let database: Database;
  let server: S3Server;
  beforeAll(async () => {
    database = await openTestDatabase();
    server = await s3Server();
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  it('still reads and deletes the blobs kept in Postgres before the switch, and writes new ones to the bucket', async () => {
    await createBlobStore({ kind: 'postgres' }, database.db).put([{ key: 'recordings/9/before', body: Buffer.from('old') }]);
    const store = createBlobStore({ kind: 's3', s3: settingsOf(server) }, database.db);
    await store.put([{ key: 'recordings/9/after', body: Buffer.from('new') }]);
    expect(await server.keys()).toEqual(['recordings/9/after']);
    expect(await store.get('recordings/9/before')).toEqual(Buffer.from('old'));
    expect(await store.get('recordings/9/after')).toEqual(Buffer.from('new'));
    await store.delete(['recordings/9/before', 'recordings/9/after']);
    expect(await store.get('recordings/9/before')).toBeNull();
    expect(await store.get('recordings/9/after')).toBeNull();
    expect(await server.keys()).toEqual([]);
  });
});
