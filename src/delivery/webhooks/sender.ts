import { Agent, request } from 'undici';

/** One HTTP attempt. */
export interface DeliveryRequest {
  url: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
  timeoutMs: number;
}

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
}

/** Response bytes kept for the attempt history. */
const BODY_SNIPPET_BYTES = 512;

/**
 * Sends webhook requests through one undici Agent: a keep-alive pool per origin, a deadline per
 * attempt covering connect, headers and body, and a cap on the response body read (a huge or
 * endless body costs at most `maxResponseBytes`, then the connection is dropped).
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(private readonly options: SenderOptions) {
    this.agent = new Agent({ connections: options.connectionsPerOrigin, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  }

  async send(req: DeliveryRequest, signal: AbortSignal): Promise<AttemptOutcome> {
    const started = performance.now();
    // One controller per attempt, aborted by the deadline or by the lane stopping.
    // (AbortSignal.any and AbortSignal.timeout cost far more per call on Node 20.)
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort();
    }, req.timeoutMs);
    const stop = (): void => deadline.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const res = await request(req.url, {
        dispatcher: this.agent,
        method: req.method as 'POST',
        headers: req.headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req.body,
        signal: deadline.signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const body = await this.readCapped(res.body);
      const outcome: AttemptOutcome = { status: res.statusCode, latencyMs: performance.now() - started, body };
      const retryAfter = parseRetryAfter(res.headers['retry-after']);
      if (retryAfter !== undefined) outcome.retryAfterMs = retryAfter;
      return outcome;
    } catch (err) {
      signal.throwIfAborted();
      return { error: timedOut ? `timed out after ${req.timeoutMs} ms` : describeError(err), latencyMs: performance.now() - started };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
    let read = 0;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    for await (const chunk of body) {
      read += chunk.byteLength;
      if (keptBytes < BODY_SNIPPET_BYTES) {
        kept.push(chunk.subarray(0, BODY_SNIPPET_BYTES - keptBytes));
        keptBytes += Math.min(chunk.byteLength, BODY_SNIPPET_BYTES - keptBytes);
      }
      if (read > this.options.maxResponseBytes) {
        body.destroy();
        break;
      }
    }
    return Buffer.concat(kept).toString('utf8');
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
