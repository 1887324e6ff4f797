import { encodeCeHeader } from '../../core/ceHeader.js';
import type { StoredEvent } from '../../core/event.js';
import type { DeliveryRequest } from './sender.js';
import { secretKey, sign } from './signature.js';
import type { Subscription } from './subscription.js';

/** The pseudo-header under which an ingress adapter records the request method (go-sep forwards it). */
export const METHOD_HEADER = ':method';

/** Headers the HTTP client writes itself, or that describe the ingress connection rather than the event. */
const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

const USER_AGENT = 'Herald-Webhooks/1';

/** Decoded keys per secret string: decoding base64 on every attempt would be wasted work. */
const keyCache = new Map<string, Buffer>();

/** The signing keys in force: the newest secret, plus older ones still in their grace period. */
export function signingKeys(sub: Subscription, now: number): Buffer[] {
  const keys: Buffer[] = [];
  sub.secrets.forEach((s, i) => {
    if (i > 0 && (s.expiresAt === undefined || Date.parse(s.expiresAt) <= now)) return;
    let key = keyCache.get(s.secret);
    if (key === undefined) {
      if (keyCache.size > 10_000) keyCache.clear();
      keyCache.set(s.secret, (key = secretKey(s.secret)));
    }
    keys.push(key);
  });
  return keys;
}

/**
 * The HTTP request delivering `event` to `sub`'s endpoint.
 * `standard`: a POST of the payload with its Content-Type and the Standard Webhooks headers.
 * `gosep`: the method, headers and body the event arrived with, plus `X-Wsq-Id` (compat.md §1).
 */
export function buildRequest(sub: Subscription, event: StoredEvent, keys: Buffer[], now: number): DeliveryRequest {
  if (sub.format === 'gosep') {
    const headers: Record<string, string> = {};
    // Headers posted the go-sep way (they carry the method) are kept as they arrived; CloudEvents
    // attributes from the HTTP API are stored decoded and go out percent-encoded again.
    const asArrived = event.headers?.[METHOD_HEADER] !== undefined;
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (name === METHOD_HEADER || NOT_FORWARDED.has(name) || name.toLowerCase() === 'x-wsq-id') continue;
      headers[name] = !asArrived && name.startsWith('ce-') ? encodeCeHeader(value) : value;
    }
    headers['user-agent'] ??= 'Go-http-client/1.1';
    headers['x-wsq-id'] = event.id;
    return { url: sub.url, method: event.headers?.[METHOD_HEADER] ?? 'POST', headers, body: event.data, timeoutMs: sub.timeoutMs, pipelining: sub.pipelining ?? 1 };
  }
  const timestamp = Math.floor(now / 1000);
  return {
    url: sub.url,
    method: 'POST',
    headers: {
      ...sub.headers,
      'user-agent': USER_AGENT,
      'content-type': event.contentType,
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(keys, event.id, timestamp, event.data),
      'herald-stream': event.stream,
      'herald-seq': String(event.seq),
      'herald-type': event.type,
    },
    body: event.data,
    timeoutMs: sub.timeoutMs,
    pipelining: sub.pipelining ?? 1,
  };
}

/** Whether an answer counts as delivered: any 2xx, or exactly 200 for go-sep (compat.md §1). */
export function isSuccess(sub: Subscription, status: number | undefined): boolean {
  if (status === undefined) return false;
  return sub.format === 'gosep' ? status === 200 : status >= 200 && status < 300;
}
