import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret is `whsec_` followed by
 * base64 of 24–64 random bytes; a signature is `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")),
 * and several (during a secret rotation) are separated by spaces.
 */

export const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A fresh secret: 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** Why `secret` is not a valid Standard Webhooks secret, or undefined when it is. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}"`;
  const body = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(body) || body.length % 4 !== 0) return `must be "${SECRET_PREFIX}" followed by base64`;
  const bytes = Buffer.from(body, 'base64').byteLength;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) return `must encode ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, got ${bytes}`;
  return undefined;
}

/** The HMAC key of a valid secret. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The `webhook-signature` header value: one `v1,<sig>` per key, space-separated. */
export function sign(keys: readonly Buffer[], id: string, timestamp: number, body: Uint8Array): string {
  const prefix = `${id}.${timestamp}.`;
  let header = '';
  for (const key of keys) {
    const mac = createHmac('sha256', key).update(prefix).update(body).digest('base64');
    header += header === '' ? `v1,${mac}` : ` v1,${mac}`;
  }
  return header;
}
