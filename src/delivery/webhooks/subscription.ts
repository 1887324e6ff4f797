import { z } from 'zod';
import { STREAM_NAME_RULE, isValidStreamName } from '../../core/names.js';
import { secretProblem } from './signature.js';

/**
 * A webhook subscription: one endpoint receiving one stream (optionally filtered), through its
 * own delivery lane. The stored shape; the HTTP API shows it without secrets (see `publicView`).
 */
export interface Subscription {
  id: string;
  stream: string;
  url: string;
  description?: string;
  filter: SubscriptionFilter;
  /** Signing secrets, newest first: the first signs alone unless older ones are still in their grace period. */
  secrets: Array<{ secret: string; expiresAt?: string }>;
  state: SubscriptionState;
  /** Why the endpoint was disabled (410 Gone, or by an operator). */
  disabledReason?: string;
  /** Requests in flight at once: 1 (the default) delivers in strict stream order. */
  maxInFlight: number;
  /** Attempts (retries included) started per second at most; none: as fast as the endpoint answers. */
  rateLimit?: number;
  /**
   * Requests one connection carries at once (HTTP/1.1 pipelining): with `maxInFlight` above 1,
   * requests go out without waiting for the answers before them. Absent: 1, no pipelining.
   */
  pipelining?: number;
  /** Time allowed per attempt, in ms. */
  timeoutMs: number;
  /** Delays between attempts, in ms; its length is the number of retries. */
  retrySchedule: number[];
  /**
   * `durable`: the lane reads from its durable position, nothing is dropped, retries follow the
   * schedule. `gosep`: go-sep's policy: at most `buffer` events wait (the oldest are dropped and
   * counted), retries every 100 ms × 1.5 within a 10 s window.
   */
  policy: 'durable' | 'gosep';
  /** Waiting events kept under the gosep policy. */
  buffer?: number;
  /**
   * The request's shape. `standard`: a POST of the payload signed per Standard Webhooks, success
   * is any 2xx. `gosep` (go-sep queue targets only): the method, headers and body the event was
   * posted with, plus `X-Wsq-Id`, and success is exactly 200.
   */
  format: 'standard' | 'gosep';
  /** Extra request headers. */
  headers: Record<string, string>;
  /** Where it was defined: the API, the `subscriptions` config list, or a go-sep queue target. */
  source: 'api' | 'config' | 'gosep';
  created: string;
  updated: string;
}

export type SubscriptionState = 'active' | 'paused' | 'disabled';

export interface SubscriptionFilter {
  /** Event types delivered (`*` matches any run of characters); none: every type. */
  types?: string[];
  /** Event subjects delivered (same patterns); none: every subject. */
  subjects?: string[];
}

/** Standard Webhooks' example schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

const pattern = z.string().min(1).max(200);
const MAX_DAY_MS = 86_400_000;

export const urlField = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http:// or https:// URL');

export const secretField = z.string().superRefine((value, ctx) => {
  const problem = secretProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers a subscription may not set: they carry the signature, the framing or the payload's type. */
const RESERVED_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

const headersField = z.record(z.string(), z.string().max(4096)).superRefine((headers, ctx) => {
  const names = Object.keys(headers);
  if (names.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 headers' });
  for (const name of names) {
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'is not a valid header name' });
    else if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: 'is set by Herald and cannot be overridden' });
    if (/[\r\n\0]/.test(headers[name]!)) ctx.addIssue({ code: 'custom', path: [name], message: 'a header value cannot hold CR, LF or NUL' });
  }
});

/** Requests pipelined on one connection at most: beyond a few dozen there is nothing left to gain. */
export const MAX_PIPELINING = 64;

/** Attempts per second an endpoint takes at most. */
const rateLimitField = z.number().int().min(1).max(100_000);

/** The fields a caller may set, shared by the API (create, update) and the config list. */
const settableFields = {
  url: urlField,
  description: z.string().max(1000).optional(),
  filter: z.object({ types: z.array(pattern).max(100).optional(), subjects: z.array(pattern).max(100).optional() }).strict().optional(),
  maxInFlight: z.number().int().min(1).max(1000).optional(),
  rateLimit: rateLimitField.optional(),
  pipelining: z.number().int().min(1).max(MAX_PIPELINING).optional(),
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
  retrySchedule: z.array(z.number().int().min(0).max(MAX_DAY_MS)).max(50).optional(),
  policy: z.enum(['durable', 'gosep']).optional(),
  buffer: z.number().int().min(1).max(1_000_000).optional(),
  headers: headersField.optional(),
};

export const streamField = z.string().refine(isValidStreamName, STREAM_NAME_RULE);

/** Where a new subscription's lane starts: after the stream's current head (default), at the first stored event, or after a seq. */
export const startField = z.union([z.literal('now'), z.literal('earliest'), z.number().int().min(0)]);

/** `POST /subscriptions`. */
export const createSubscriptionSchema = z
  .object({ stream: streamField, secret: secretField.optional(), start: startField.optional(), ...settableFields })
  .strict();

/**
 * `PATCH /subscriptions/{id}`: every field optional; `secret` rotates (the old one keeps signing
 * for the grace period); `rateLimit: null` removes the limit.
 */
export const updateSubscriptionSchema = z
  .object({ ...settableFields, url: urlField.optional(), secret: secretField.optional(), rateLimit: rateLimitField.nullable().optional() })
  .strict();

export type CreateSubscription = z.output<typeof createSubscriptionSchema>;
export type UpdateSubscription = z.output<typeof updateSubscriptionSchema>;

/** The subscription as the API shows it: secrets never leave, only their count. */
export function publicView(sub: Subscription): Omit<Subscription, 'secrets'> & { secrets: number } {
  const { secrets, ...rest } = sub;
  return { ...rest, secrets: secrets.length };
}
