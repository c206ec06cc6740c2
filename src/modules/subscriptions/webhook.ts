import { createHmac } from 'node:crypto';
import { GuardedFetchError, guardedFetch } from '../../net/guarded-fetch.js';
import type { UrlGuard } from '../../net/url-guard.js';
import { DeliveryError } from './delivery-error.js';

export const SIGNATURE_HEADER = 'X-Burrow-Signature';
/** HMAC message of the webhook signing key (the key is HMAC-SHA256(SECRET_KEY, this), in hex). */
export const WEBHOOK_KEY_CONTEXT = 'burrow-subscription-webhook';
const MAX_REDIRECTS = 5;
const TIMEOUT_MS = 15_000;
/** A receiver's answer is read (and thrown away) up to this size. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The key webhooks are signed with: HMAC-SHA256(SECRET_KEY, "burrow-subscription-webhook"), hex. */
export const webhookSigningKey = (secretKey: string): string => createHmac('sha256', secretKey).update(WEBHOOK_KEY_CONTEXT).digest('hex');

/** `sha256=<hex of HMAC-SHA256(key, body)>`. */
export const signBody = (key: string, body: string): string => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

/**
 * POSTs the JSON body to the webhook URL, signed, through the URL guard. Redirects are followed hop by hop (each
 * Location goes through the guard again), re-sending the same POST; a 2xx is success.
 */
export async function postWebhook(guard: UrlGuard, url: string, body: string, key: string, signal?: AbortSignal): Promise<{ status: number }> {
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Burrow-Subscriptions/1',
    [SIGNATURE_HEADER.toLowerCase()]: signBody(key, body),
  };
  let target = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response;
    try {
      response = await guardedFetch(guard, { url: target, method: 'POST', headers, body: Buffer.from(body) }, { signal, maxBytes: MAX_RESPONSE_BYTES, timeoutMs: TIMEOUT_MS });
    } catch (error) {
      if (error instanceof GuardedFetchError) throw new DeliveryError(`Webhook request to ${target} failed: ${error.message}`, error.code !== 'aborted' && error.code !== 'failed');
      throw error;
    }
    if (response.blocked) throw new DeliveryError(`Invalid webhook URL: ${response.reason} (${target})`, false, true);
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location) {
      target = new URL(location, target).toString();
      continue;
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status };
    throw new DeliveryError(`Webhook answered ${response.status}`, response.status >= 500 || response.status === 429);
  }
  throw new DeliveryError(`Webhook redirected more than ${MAX_REDIRECTS} times`, false);
}
