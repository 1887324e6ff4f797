import type { ServerResponse } from 'node:http';
import type { FrameFormat, LiveBatch, LiveEvent } from './liveEvent.js';
import type { CloseReason, Gap, LiveTransport } from './liveSession.js';
import { sseComment, sseEvent, sseIdOnly, sseRetry } from './sseFrames.js';

/** The event type of the frame telling a client that retention removed events it asked for. */
export const GAP_EVENT = 'herald.gap';

/** The response header saying how many requested events retention had already removed. */
export const MISSED_HEADER = 'herald-events-missed';

const HEARTBEAT = sseComment('');
const HEARTBEAT_FRAME = Buffer.from(HEARTBEAT, 'latin1');

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

/** HTTP/1.1 chunk framing of a buffer, cached per buffer: one broadcast frame, one framing. */
const chunkedCache = new WeakMap<Buffer, Buffer>();

function chunked(frame: Buffer): Buffer {
  let out = chunkedCache.get(frame);
  if (out === undefined) {
    out = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`, 'latin1'), frame, CRLF]);
    chunkedCache.set(frame, out);
  }
  return out;
}
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Server-Sent Events on a node:http response (the route has hijacked it from fastify), as a
 * normal chunked HTTP/1.1 response (plain, close-delimited, for HTTP/1.0 clients).
 *
 * After the head, frames are written to the socket directly, already framed as chunks: a
 * broadcast writes one shared buffer (whose chunk framing is built once, `chunked`) to every
 * connection, where `res.write` would build and write the chunk head and tail for each of
 * them. At 10,000 connections that per-write cost is what limits the fan-out (sse-fanout).
 * `res.end()` still writes the last chunk, so keep-alive and proxies see a well-formed response.
 */
export class SseTransport implements LiveTransport {
  readonly protocol = 'sse';
  /** The newest id the client has been sent; heartbeats advance it past filtered-out events. */
  private lastId = -1;
  private ended = false;
  private isChunked = false;

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
    // The head goes out with this first write; from here on the socket is written directly.
    this.res.write(after > 0 ? sseRetry(retryMs) + sseIdOnly(String(after)) : sseRetry(retryMs));
    this.isChunked = this.res.chunkedEncoding;
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  sendEvent(event: LiveEvent): boolean {
    this.lastId = event.event.seq;
    return this.write(event.frame(this.format));
  }

  sendBatch(batch: LiveBatch): boolean {
    this.lastId = batch.lastSeq;
    return this.write(batch.all(this.format));
  }

  sendGap(gap: Gap): void {
    // The id is the last missing seq: a client reconnecting after this frame is not told twice.
    this.lastId = gap.next - 1;
    this.write(Buffer.from(sseEvent(String(gap.next - 1), GAP_EVENT, JSON.stringify(gap)), 'utf8'));
  }

  heartbeat(lastSeq: number): void {
    if (lastSeq > this.lastId) {
      // Events were filtered out since the last id sent: move the client's Last-Event-ID past
      // them (an id-only frame dispatches nothing), so a reconnect does not scan them again.
      this.lastId = lastSeq;
      this.write(Buffer.from(sseIdOnly(String(lastSeq)) + HEARTBEAT, 'latin1'));
      return;
    }
    this.write(HEARTBEAT_FRAME);
  }

  drained(): Promise<void> {
    const socket = this.res.socket;
    if (this.ended || socket === null || socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** Writes a frame to the socket (as a chunk when the response is chunked); false: wait for drain. */
  private write(frame: Buffer): boolean {
    const socket = this.res.socket;
    if (this.ended || socket === null || socket.destroyed) return true;
    return socket.write(this.isChunked ? chunked(frame) : frame);
  }

  close(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    if (reason === 'shutdown') this.res.end();
    else if (reason !== 'peer') this.res.destroy();
  }
}
