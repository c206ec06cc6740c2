import { describe, expect, it } from 'vitest';
import { presignS3Get } from '../../src/storage/s3-presign.js';

describe('presignS3Get', () => {
  it("matches AWS's published SigV4 query-string example", () => {
    // docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html: GET examplebucket/test.txt, 24 hours.
    const url = presignS3Get(
      { endpoint: 'https://s3.amazonaws.com', bucket: 'examplebucket', region: 'us-east-1', forcePathStyle: false },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      'test.txt',
      { expiresSeconds: 86400, now: new Date('2013-05-24T00:00:00Z') },
    );
    expect(url).toBe(
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('puts the bucket in the path for path-style services and signs the response headers', () => {
    const url = new URL(
      presignS3Get(
        { endpoint: 'http://127.0.0.1:9000', bucket: 'burrow', region: 'us-east-1', forcePathStyle: true },
        { accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't' },
        'exports/csv/team-1/task-2/x y',
        { expiresSeconds: 60, responseHeaders: { 'response-content-type': 'text/csv' } },
      ),
    );
    expect(url.host).toBe('127.0.0.1:9000');
    expect(url.pathname).toBe('/burrow/exports/csv/team-1/task-2/x%20y');
    expect(url.searchParams.get('response-content-type')).toBe('text/csv');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('t');
  });
});
