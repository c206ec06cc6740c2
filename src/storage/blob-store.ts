import type { Db } from '../db/client.js';

/** A named piece of bytes: a compressed recording block, later an export file. */
export interface Blob {
  key: string;
  body: Buffer;
}

export interface PresignOptions {
  expiresSeconds: number;
  contentType: string;
  contentDisposition?: string;
}

/**
 * Where large bytes live, behind one interface so recordings can outgrow one database (BLOB_STORE). A caller passes its
 * transaction: the Postgres store writes and deletes inside it; an object store cannot, so a caller that puts blobs
 * and then fails deletes them again (keys are never reused, so that delete cannot remove anyone else's blob).
 */
export interface BlobStore {
  readonly kind: 'postgres' | 's3';
  /** Answers once the store can be used; throws a readable error when it cannot (a missing bucket, bad credentials). */
  verify(): Promise<void>;
  put(blobs: Blob[], tx?: Db): Promise<void>;
  /** Stores a file's content under the key, streamed: to an object store, or in pieces into a Postgres row. */
  putFile(key: string, path: string): Promise<void>;
  /** The blob's bytes, or null when there is none under the key. */
  get(key: string): Promise<Buffer | null>;
  /**
   * A time-limited URL a client can GET the blob from directly, answered with these response headers; null when this
   * store cannot make one for the key (Postgres, or a blob that is not in the object store).
   */
  presignGet(key: string, options: PresignOptions): Promise<string | null>;
  /** Deletes what exists under the keys; missing keys are not an error. */
  delete(keys: string[], tx?: Db): Promise<void>;
}
