import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from './blob-store.js';
import { presignS3Get } from './s3-presign.js';

export interface S3Settings {
  /** Any S3-compatible service (MinIO, Ceph, R2, a local test server); AWS itself when unset. */
  endpoint: string | undefined;
  bucket: string;
  region: string;
  /** Both or neither; without them the AWS SDK's own chain (AWS_* variables, instance roles) is used. */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** bucket in the path (http://host/bucket/key) rather than the host name, as most self-hosted services need. */
  forcePathStyle: boolean;
}

/** DeleteObjects takes at most 1,000 keys. */
const KEYS_PER_DELETE = 1_000;

/**
 * BLOB_STORE=s3: one object per blob in one bucket. The SDK is loaded on first use, so a server that never touches
 * a recording does not carry it.
 */
export function createS3BlobStore(settings: S3Settings): BlobStore {
  const clientSettings = { endpoint: settings.endpoint, region: settings.region, credentials: settings.credentials, forcePathStyle: settings.forcePathStyle };
  let client: Promise<{ s3: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | null = null;
  const connect = () => (client ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, s3: new sdk.S3Client(clientSettings) })));
  let streaming: S3Client | null = null;
  const where = `bucket "${settings.bucket}"${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;

  return {
    kind: 's3',
    async verify() {
      const { s3, sdk } = await connect();
      try {
        await s3.send(new sdk.HeadBucketCommand({ Bucket: settings.bucket }));
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const reason = status === 404 ? 'it does not exist' : status === 403 ? 'access is denied' : (error as Error).message || (error as Error).name;
        throw new Error(`BLOB_STORE=s3 cannot use ${where}: ${reason}`, { cause: error });
      }
    },
    async put(entries) {
      const { s3, sdk } = await connect();
      await Promise.all(
        entries.map(({ key, body }) =>
          s3.send(
            new sdk.PutObjectCommand({
              Bucket: settings.bucket,
              Key: key,
              Body: body,
            }),
          ),
        ),
      );
    },
    /** One PutObject streamed from the file (up to 5 GB, S3's single-request limit): the file is never in memory. */
    async putFile(key, path) {
      const { sdk } = await connect();
      // Its own client: by default the SDK sends a stream with aws-chunked encoding and a checksum trailer, which
      // several S3-compatible services (s3rver, older MinIO and Ceph) store as it is; a plain body with its length
      // is understood everywhere.
      streaming ??= new sdk.S3Client({ ...clientSettings, requestChecksumCalculation: 'WHEN_REQUIRED' });
      const { size } = await stat(path);
      await streaming.send(new sdk.PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: createReadStream(path), ContentLength: size }));
    },
    async get(key) {
      const { s3, sdk } = await connect();
      try {
        const object = await s3.send(new sdk.GetObjectCommand({ Bucket: settings.bucket, Key: key }));
        return object.Body ? Buffer.from(await object.Body.transformToByteArray()) : Buffer.alloc(0);
      } catch (error) {
        if (error instanceof sdk.NoSuchKey) return null;
        throw error;
      }
    },
    /** Signed here (SigV4, node:crypto), after a HEAD: a blob kept in Postgres before the switch has no URL. */
    async presignGet(key, options) {
      const { s3, sdk } = await connect();
      try {
        await s3.send(new sdk.HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || error instanceof sdk.NotFound || error instanceof sdk.NoSuchKey) return null;
        throw error;
      }
      const credentials = await s3.config.credentials();
      return presignS3Get(settings, credentials, key, {
        expiresSeconds: options.expiresSeconds,
        responseHeaders: {
          'response-content-type': options.contentType,
          ...(options.contentDisposition && { 'response-content-disposition': options.contentDisposition }),
        },
      });
    },
    async delete(keys) {
      if (keys.length === 0) return;
      const { s3, sdk } = await connect();
      for (let start = 0; start < keys.length; start += KEYS_PER_DELETE) {
        const batch = keys.slice(start, start + KEYS_PER_DELETE);
        const result = await s3.send(
          new sdk.DeleteObjectsCommand({
            Bucket: settings.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0)
          throw new Error(`BLOB_STORE=s3 could not delete ${failed.length} of ${batch.length} objects from ${where}: ${failed[0]!.Code} ${failed[0]!.Message}`);
      }
    },
  };
}
