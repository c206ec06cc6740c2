import { createHmac, timingSafeEqual } from 'node:crypto';

/** PostHog's audiences (posthog/jwt.py); a token made for one is refused by every other. */
export const JwtAudience = {
  sharingPasswordProtected: 'posthog:sharing_password_protected',
  /** A public link to an export's file (/exporter/<filename>?token=). */
  exportedAsset: 'posthog:exported_asset',
  /** A subscription email's unsubscribe link (/api/unsubscribe?token=), 30 days. */
  unsubscribe: 'posthog:unsubscribe',
  /**
   * Burrow's own: the short-lived credential an export job calls the API with as the export's creator. The auth
   * plugin takes it for GET requests only, and as that user only.
   */
  exportInternal: 'burrow:export_internal',
} as const;
export type JwtAudience = (typeof JwtAudience)[keyof typeof JwtAudience];

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const signature = (key: string, signed: string) => createHmac('sha256', key).update(signed).digest();

/** An HS256 JWT of `payload` for `audience`, expiring after `ttlSeconds`, as PostHog's encode_jwt. */
export function encodeJwt(key: string, payload: Record<string, unknown>, ttlSeconds: number, audience: JwtAudience): string {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(Date.now() / 1000) + ttlSeconds, aud: audience })).toString('base64url');
  const signed = `${HEADER}.${body}`;
  return `${signed}.${signature(key, signed).toString('base64url')}`;
}

/** Whether a credential has a JWT's shape (so it is not a personal API key). */
export const looksLikeJwt = (token: string) => SHAPE.test(token);

/** The payload of a token this server signed for `audience` that has not expired; null for anything else. */
export function decodeJwt(key: string, token: string, audience: JwtAudience): Record<string, unknown> | null {
  if (!looksLikeJwt(token)) return null;
  const [header, body, sig] = token.split('.') as [string, string, string];
  const expected = signature(key, `${header}.${body}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: unknown }).alg;
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    if (alg !== 'HS256' || payload.aud !== audience || typeof payload.exp !== 'number' || payload.exp <= Date.now() / 1000) return null;
    return payload;
  } catch {
    return null;
  }
}
