import { readFile } from 'node:fs/promises';
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { blobs } from '../db/schema/index.js';
import type { BlobStore } from './blob-store.js';

/** Postgres takes at most 65,535 parameters per statement. */
const KEYS_PER_STATEMENT = 10_000;

/** BLOB_STORE=postgres (the default): blobs are rows of the `blobs` table, written in the caller's transaction. */
export function createPostgresBlobStore(db: Db): BlobStore {
  return {
    kind: 'postgres',
    async verify() {},
    async put(entries, tx = db) {
      if (entries.length === 0) return;
      await tx.insert(blobs).values(entries.map(({ key, body }) => ({ key, content: body })));
    },
    async putFile(key, path) {
      await db.insert(blobs).values({ key, content: await readFile(path) });
    },
    async get(key) {
      const [row] = await db.select({ content: blobs.content }).from(blobs).where(eq(blobs.key, key));
      return row?.content ?? null;
    },
    async presignGet() {
      return null;
    },
    async delete(keys, tx = db) {
      for (let start = 0; start < keys.length; start += KEYS_PER_STATEMENT) {
        await tx.delete(blobs).where(inArray(blobs.key, keys.slice(start, start + KEYS_PER_STATEMENT)));
      }
    },
  };
}
