import type { ConnectionOptions } from 'node:tls';
import { Http1Client, type Http1Request } from './http1/client.js';

/** One HTTP attempt: what the webhook HTTP/1.1 client sends. */
export type DeliveryRequest = Http1Request;

/** What came of an attempt. */
export interface AttemptOutcome {
  /** The status, when the endpoint answered. */
  status?: number;
  /** A transport error or timeout, when it did not. */
  error?: string;
  latencyMs: number;
  /** From a `Retry-After` header (seconds or an HTTP date), in ms. */
  retryAfterMs?: number;
  /** The start of the response body, for the attempt history. */
  body?: string;
}

export interface SenderOptions {
  /** Response bytes read at most; past that the connection is dropped. */
  maxResponseBytes: number;
  /** Keep-alive connections per origin. */
  connectionsPerOrigin: number;
  /** Extra TLS options for https endpoints (tests pass a private CA). */
  tls?: ConnectionOptions;
}

/** Response bytes kept for the attempt history. */
const BODY_SNIPPET_BYTES = 512;
/** Status line and headers of an answer, at most. */
const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;
/** An idle keep-alive connection is closed after this long (or the server's own hint, less a second). */
const IDLE_TIMEOUT_MS = 30_000;

/**
 * Sends webhook requests through Herald's HTTP/1.1 client (http1/): a keep-alive pool per
 * origin, a deadline per attempt covering connect, headers and body, and a cap on the response
 * body read (a huge or endless body costs at most `maxResponseBytes`, then the connection is
 * dropped).
 */
export class WebhookSender {
  private readonly client: Http1Client;

  constructor(options: SenderOptions) {
    this.client = new Http1Client({
      connectionsPerOrigin: options.connectionsPerOrigin,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      maxHeaderBytes: MAX_RESPONSE_HEADER_BYTES,
      maxBodyBytes: options.maxResponseBytes,
      keepBodyBytes: BODY_SNIPPET_BYTES,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
    });
  }

  async send(req: DeliveryRequest, signal: AbortSignal): Promise<AttemptOutcome> {
    const started = performance.now();
    try {
      const res = await this.client.request(req, signal);
      const outcome: AttemptOutcome = { status: res.status, latencyMs: performance.now() - started, body: res.body.toString('utf8') };
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      if (retryAfter !== undefined) outcome.retryAfterMs = retryAfter;
      return outcome;
    } catch (err) {
      signal.throwIfAborted();
      return { error: describeError(err), latencyMs: performance.now() - started };
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, in ms from now. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, when - Date.now());
}
