import { createHmac } from 'node:crypto';
import { sha256Hex } from '../lib/ids.js';

export interface PresignTarget {
  /** The S3-compatible service's URL; AWS's regional endpoint when unset. */
  endpoint: string | undefined;
  bucket: string;
  region: string;
  forcePathStyle: boolean;
}

export interface PresignCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * A presigned GET of one object (AWS Signature Version 4, query-string authentication), with the response headers
 * S3 is to answer with (response-content-type, response-content-disposition). Valid for `expiresSeconds` (max 7 days).
 */
export function presignS3Get(
  target: PresignTarget,
  credentials: PresignCredentials,
  key: string,
  options: { expiresSeconds: number; responseHeaders?: Record<string, string>; now?: Date },
): string {
  const now = options.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const base = new URL(target.endpoint ?? `https://s3.${target.region}.amazonaws.com`);
  const pathStyle = target.forcePathStyle;
  const host = pathStyle ? base.host : `${target.bucket}.${base.host}`;
  const prefix = base.pathname.replace(/\/$/, '');
  const objectPath = key.split('/').map(encode).join('/');
  const path = `${prefix}${pathStyle ? `/${encode(target.bucket)}` : ''}/${objectPath}`;
  const scope = `${day}/${target.region}/s3/aws4_request`;
  const params: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(options.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
    ...(credentials.sessionToken ? ([['X-Amz-Security-Token', credentials.sessionToken]] as [string, string][]) : []),
    ...Object.entries(options.responseHeaders ?? {}),
  ];
  const query = params
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', path, query, `host:${host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), target.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return `${base.protocol}//${host}${path}?${query}&X-Amz-Signature=${signature}`;
}
