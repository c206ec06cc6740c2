import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ValidationError } from '../../lib/errors.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAX_MEM = 64 * 1024 * 1024;

/** "scrypt$N$r$p$<salt b64>$<hash b64>", a standard slow hash from Node's crypto. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, { N, r: R, p: P, maxmem: MAX_MEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = stored?.split('$');
  if (!parts || parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEM,
  });
  return timingSafeEqual(actual, expected);
}

/** A hash no password matches, for timing-safe checks of unknown users. */
export const UNUSABLE_PASSWORD = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_LENGTH).toString('base64')}`;

/**
 * Django's AUTH_PASSWORD_VALIDATORS as PostHog configures them: at least 8 characters, then a zxcvbn score of 3.
 * The messages and codes are PostHog's.
 */
export async function validatePassword(password: string, attr = 'password'): Promise<void> {
  if (password.length < 8) {
    throw new ValidationError('This password is too short. It must contain at least 8 characters.', attr, 'password_too_short');
  }
  // Its dictionaries take ~26 MB; most processes never check a password, so they load on first use.
  const { default: zxcvbn } = await import('zxcvbn');
  const result = zxcvbn(password);
  if (result.score < 3) {
    // Python's zxcvbn, which PostHog runs, ends every suggestion with a period; the JavaScript one not always.
    const suggestions = result.feedback.suggestions.map((s) => (s.endsWith('.') ? s : `${s}.`)).join(' ');
    throw new ValidationError(suggestions || 'This password is too weak.', attr, 'password_too_weak');
  }
}
