import { open } from 'node:fs/promises';
import { eq, inArray, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../db/client.js';
import { blobs } from '../db/schema/index.js';
import type { BlobStore } from './blob-store.js';

/** Postgres takes at most 65,535 parameters per statement. */
const KEYS_PER_STATEMENT = 10_000;
/**
 * putFile sends a file in pieces of this size, read into one buffer it reuses: the process holds one piece however
 * large the file, and leaves V8 less garbage to collect than a read stream's new buffer per piece (half the RSS
 * rise while a 97 MB file is stored).
 */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/** BLOB_STORE=postgres (the default): blobs are rows of the `blobs` table, written in the caller's transaction. */
export function createPostgresBlobStore(db: Db): BlobStore {
  return {
    kind: 'postgres',
    async verify() {},
    async put(entries, tx = db) {
      if (entries.length === 0) return;
      await tx.insert(blobs).values(entries.map(({ key, body }) => ({ key, content: body })));
    },
    /**
     * The file is appended piece by piece to a large object (lo_put writes its pages, so the cost is linear), which
     * becomes the row's bytea in the database and is dropped, all in one transaction: a failure or a killed process
     * leaves neither a row nor a large object behind.
     */
    async putFile(key, path) {
      await db.transaction(async (tx) => {
        const [created] = await queryRows<{ oid: number | string }>(tx, sql`select lo_create(0) as oid`);
        const oid = String(created!.oid);
        const file = await open(path, 'r');
        try {
          const piece = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
          for (let offset = 0; ; ) {
            const { bytesRead } = await file.read(piece, 0, piece.length, offset);
            if (bytesRead === 0) break;
            await tx.execute(sql`select lo_put(${oid}::oid, ${offset}::bigint, ${piece.subarray(0, bytesRead)}::bytea)`);
            offset += bytesRead;
          }
        } finally {
          await file.close();
        }
        await tx.execute(sql`insert into ${blobs} (key, content) values (${key}, lo_get(${oid}::oid))`);
        await tx.execute(sql`select lo_unlink(${oid}::oid)`);
      });
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
