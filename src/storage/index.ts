import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { BlobStore } from './blob-store.js';
import { createPostgresBlobStore } from './postgres-blob-store.js';
import { createS3BlobStore } from './s3-blob-store.js';

export type { Blob, BlobStore, PresignOptions } from './blob-store.js';

/**
 * The store BLOB_STORE names. With s3, blobs written while the installation still kept them in Postgres stay there
 * and are still read and deleted there, so switching needs no copy.
 */
export function createBlobStore(settings: Config['blobStore'], db: Db): BlobStore {
  const postgres = createPostgresBlobStore(db);
  return settings.kind === 's3' ? withEarlierBlobs(createS3BlobStore(settings.s3), postgres) : postgres;
}

function withEarlierBlobs(store: BlobStore, earlier: BlobStore): BlobStore {
  return {
    kind: store.kind,
    verify: () => store.verify(),
    put: (blobs, tx) => store.put(blobs, tx),
    putFile: (key, path) => store.putFile(key, path),
    get: async (key) => (await store.get(key)) ?? earlier.get(key),
    presignGet: (key, options) => store.presignGet(key, options),
    async delete(keys, tx) {
      await store.delete(keys, tx);
      await earlier.delete(keys, tx);
    },
  };
}
