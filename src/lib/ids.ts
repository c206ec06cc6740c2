import { createHash, randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { NotFoundError } from './errors.js';

/** PostHog's base57 alphabet: base62 without the look-alikes 0 1 O I l. */
const BASE57 = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/**
 * PostHog's generate_random_token: random bytes with the top bit forced on (so the length is stable),
 * written in base57. 35 bytes give 48 characters, or 49 in about 3% of tokens.
 */
export function randomToken(bytes = 32): string {
  const buf = randomBytes(bytes);
  buf[0] = buf[0]! | 0x80;
  let n = BigInt(`0x${buf.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = BASE57[Number(n % 57n)]! + out;
    n /= 57n;
  }
  return out;
}

export const newUuid = (): string => uuidv7();

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

export const PERSONAL_API_KEY_PREFIX = 'phx_';
export const PROJECT_API_TOKEN_PREFIX = 'phc_';
export const SECRET_API_TOKEN_PREFIX = 'phs_';

export const newPersonalApiKeyValue = (): string => PERSONAL_API_KEY_PREFIX + randomToken(35);
export const newProjectApiToken = (): string => PROJECT_API_TOKEN_PREFIX + randomToken(32);
export const newSecretApiToken = (): string => SECRET_API_TOKEN_PREFIX + randomToken(35);

/** How personal API keys are stored and looked up: "sha256$" + hex(sha256(key)), unsalted as in PostHog. */
export const hashApiKey = (value: string): string => `sha256$${sha256Hex(value)}`;

/** "phx_...abcd", or "********" for values shorter than 16 characters, as PostHog's mask_key_value. */
export const maskKeyValue = (value: string): string =>
  value.length < 16 ? '********' : `${value.slice(0, 4)}...${value.slice(-4)}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A hyphenated UUID, the form PostHog's URLs and bodies use. */
export const isUuid = (value: string): boolean => UUID.test(value);

/**
 * The primary key a detail route looks up, read as Python's uuid.UUID reads it (Django's UUIDField): hyphens, braces
 * and a urn:uuid: prefix are allowed. Anything else is not a UUID, which DRF's get_object answers with a 404.
 */
export function uuidLookup(value: string): string {
  const hex = value.replaceAll('urn:', '').replaceAll('uuid:', '').replace(/^[{}]+|[{}]+$/g, '').replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new NotFoundError();
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A serial (int4) primary key from a URL segment: digits only, within int4; null for anything else (a 404). */
export const serialId = (raw: string): number | null => (/^\d+$/.test(raw) && Number(raw) <= 2_147_483_647 ? Number(raw) : null);
