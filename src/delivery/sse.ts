import type { ServerResponse } from 'node:http';
import type { FrameFormat, LiveBatch, LiveEvent } from './liveEvent.js';
import type { CloseReason, Gap, LiveTransport } from './liveSession.js';
import { sseComment, sseEvent, sseIdOnly, sseRetry } from './sseFrames.js';

/** The event type of the frame telling a client that retention removed events it asked for. */
export const GAP_EVENT = 'herald.gap';

/** The response header saying how many requested events retention had already removed. */
export const MISSED_HEADER = 'herald-events-missed';

/**
 * Response headers of an SSE stream. `no-transform` and `X-Accel-Buffering: no` keep proxies
 * (nginx and others) from buffering or compressing it; `no-cache` from storing it.
 */
export function sseHeaders(missed: number): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  };
  if (missed > 0) headers[MISSED_HEADER] = String(missed);
  return headers;
}

/**
 * Server-Sent Events on a node:http response (the route has hijacked it from fastify). Frames
 * go out with `res.write`, as chunked HTTP/1.1, so keep-alive and proxies see a normal response.
 */
export class SseTransport implements LiveTransport {
  readonly protocol = 'sse';
  /** The newest id the client has been sent; heartbeats advance it past filtered-out events. */
  private lastId = -1;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly format: FrameFormat,
  ) {}

  /**
   * Sends the status, headers, the retry hint and the starting position at once, so the client
   * sees the stream open. The position is sent as an id-only frame: a client that started
   * "from now" and is cut off before its first event resumes from here, not from a later "now".
   */
  open(missed: number, retryMs: number, after: number): void {
    const socket = this.res.socket;
    // A live response has no end: no idle or request timeout applies to its socket.
    socket?.setTimeout(0);
    socket?.setNoDelay(true);
    this.res.writeHead(200, sseHeaders(missed));
    this.lastId = after;
    this.res.write(after > 0 ? sseRetry(retryMs) + sseIdOnly(String(after)) : sseRetry(retryMs));
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  sendEvent(event: LiveEvent): boolean {
    this.lastId = event.event.seq;
    return this.res.write(event.frame(this.format));
  }

  sendBatch(batch: LiveBatch): boolean {
    this.lastId = batch.lastSeq;
    return this.res.write(batch.all(this.format));
  }

  sendGap(gap: Gap): void {
    // The id is the last missing seq: a client reconnecting after this frame is not told twice.
    this.lastId = gap.next - 1;
    this.res.write(sseEvent(String(gap.next - 1), GAP_EVENT, JSON.stringify(gap)));
  }

  heartbeat(lastSeq: number): void {
    if (lastSeq > this.lastId) {
      // Events were filtered out since the last id sent: move the client's Last-Event-ID past
      // them (an id-only frame dispatches nothing), so a reconnect does not scan them again.
      this.lastId = lastSeq;
      this.res.write(sseIdOnly(String(lastSeq)) + sseComment(''));
      return;
    }
    this.res.write(sseComment(''));
  }

  drained(): Promise<void> {
    if (this.ended || this.res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  close(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    if (reason === 'shutdown') this.res.end();
    else if (reason !== 'peer') this.res.destroy();
  }
}
