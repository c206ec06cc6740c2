import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The AES-256 key of stored secrets, derived from SECRET_KEY so that no other use of SECRET_KEY shares it. */
const keyOf = (secretKey: string): Buffer => createHmac('sha256', secretKey).update('burrow-secret-box').digest();

/** Seals a secret for storage (AES-256-GCM): `v1:<base64 of iv, tag, ciphertext>`. */
export function seal(secretKey: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secretKey), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
}

/** The sealed secret, or null when it was sealed with another SECRET_KEY or is not a sealed value. */
export function unseal(secretKey: string, sealed: string): string | null {
  const [version, body] = sealed.split(':');
  if (version !== VERSION || !body) return null;
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secretKey), bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
