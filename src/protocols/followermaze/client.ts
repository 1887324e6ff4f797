import type { Socket } from 'node:net';
import type { User } from './graph.js';

/** Where a connection with fresh output queues itself, to be flushed once per turn. */
export interface Outbox {
  enqueue(client: ClientConnection): void;
}

const INITIAL_BUFFER = 4096;
const MAX_KEPT_BUFFER = 256 * 1024;

/**
 * One user client connection and the notifications not yet handed to its socket. Notifications
 * are appended to a buffer of the connection's own; the outbox flushes each connection once per
 * event-loop turn, so a client gets one `write()` per turn however many notifications it had,
 * never one per notification.
 */
export class ClientConnection {
  /** The user this connection registered as (undefined until its id line arrived). */
  user: User | undefined = undefined;
  /** Position in the registry's list of registered connections (-1: not in it). */
  index = -1;
  /** When its socket's unsent bytes went over the high-water mark (0: not congested). */
  congestedSince = 0;
  /** Notifications appended to this connection. */
  notifications = 0;

  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  private length = 0;
  private queued = false;

  constructor(
    readonly socket: Socket,
    private readonly outbox: Outbox,
  ) {}

  /** Appends the line `line[start, end)` and the CRLF the original terminates it with. */
  notify(line: Uint8Array, start: number, end: number): void {
    let o = this.length;
    const needed = o + (end - start) + 2;
    if (needed > this.buffer.length) this.grow(needed);
    const buffer = this.buffer;
    // Lines are ~20 bytes: a loop beats a native copy's call overhead.
    for (let i = start; i < end; i++) buffer[o++] = line[i]!;
    buffer[o++] = 0x0d;
    buffer[o++] = 0x0a;
    this.length = o;
    this.notifications++;
    if (!this.queued) {
      this.queued = true;
      this.outbox.enqueue(this);
    }
  }

  /** Bytes appended but not yet handed to the socket. */
  get pending(): number {
    return this.length;
  }

  /**
   * Hands what was appended to the socket in one write. The socket keeps the chunk it is given
   * until the kernel took it, so it gets a copy (small ones come from Node's shared pool) and
   * the connection's own buffer is reused.
   */
  flush(): void {
    this.queued = false;
    const length = this.length;
    if (length === 0) return;
    this.length = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const chunk = Buffer.allocUnsafe(length);
    this.buffer.copy(chunk, 0, 0, length);
    this.socket.write(chunk);
    // A burst (a turn full of broadcasts) may have grown the buffer: do not keep that for good.
    if (this.buffer.length > MAX_KEPT_BUFFER) this.buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  }

  /** Drops unsent output (the connection is closing or was replaced). */
  discard(): void {
    this.length = 0;
  }

  private grow(needed: number): void {
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}
