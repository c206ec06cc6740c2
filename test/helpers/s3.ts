import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freePort } from './process.js';

/** s3rver's built-in account. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * A local S3-compatible server (s3rver, from npm) on a free port with one empty bucket, for BLOB_STORE=s3. `env` is
 * what Burrow needs to use it; `stop` and `start` take it away and bring it back on the same port and files.
 */
export async function s3Server(bucket = 'burrow') {
  const port = await freePort();
  const directory = await mkdtemp(path.join(tmpdir(), 'burrow-s3-'));
  const endpoint = `http://127.0.0.1:${port}`;
  let server: S3rver | null = null;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    forcePathStyle: true,
  });

  const start = async () => {
    server = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory,
    });
    await server.run();
  };
  await start();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    endpoint,
    bucket,
    env: {
      BLOB_STORE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
    /** Every object key in the bucket, sorted. */
    async keys(prefix = ''): Promise<string[]> {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listed.Contents ?? []).map((o) => o.Key!).sort();
    },
    start,
    async stop(): Promise<void> {
      await server?.close();
      server = null;
    },
    async close(): Promise<void> {
      await server?.close();
      client.destroy();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export type S3Server = Awaited<ReturnType<typeof s3Server>>;
