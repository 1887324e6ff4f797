import { HeraldError } from '../core/errors.js';
import type { StoredEvent } from '../core/event.js';
import type { Hub } from '../core/hub.js';
import type { FanoutRegistry, FanoutSubscriber, StreamFanout } from './fanout.js';
import { LiveEvent, type LiveBatch } from './liveEvent.js';
import type { LiveMetrics, LiveProtocol } from './liveMetrics.js';

/** Events the client was told it will never get: retention removed seqs `after+1 … next-1`. */
export interface Gap {
  /** The last seq the connection had. */
  after: number;
  /** The next seq it gets (the first one still stored). */
  next: number;
  missed: number;
}

/** Why a connection ends: `slow` (past maxBufferedBytes), `shutdown`, `error`, `peer` (client left). */
export type CloseReason = 'slow' | 'shutdown' | 'error' | 'peer';

/** One wire protocol's side of a live connection (SSE in sse.ts, WebSocket in websocket.ts). */
export interface LiveTransport {
  readonly protocol: LiveProtocol;
  /** Bytes queued for the peer but not yet handed to the kernel. */
  bufferedBytes(): number;
  /** Sends one event; false once the peer's buffer is past its high-water mark. */
  sendEvent(event: LiveEvent): boolean;
  /** Sends every event of a batch whose seqs are consecutive (one write where the protocol allows). */
  sendBatch(batch: LiveBatch): boolean;
  sendGap(gap: Gap): void;
  /** An idle connection's heartbeat; `lastSeq` is the newest seq the connection has passed. */
  heartbeat(lastSeq: number): void;
  /** Resolves once the peer drained its buffer, or the connection closed. */
  drained(): Promise<void>;
  /** Ends the connection; `slow` and `error` abruptly, `shutdown` gracefully. Idempotent. */
  close(reason: CloseReason): void;
}

export interface LiveSessionOptions {
  hub: Hub;
  fanouts: FanoutRegistry;
  metrics: LiveMetrics;
  /** Events per store read while replaying. */
  replayBatchEvents: number;
  /** A caught-up connection with more than this queued is closed (the client resumes). */
  maxBufferedBytes: number;
}

/**
 * One live connection to one stream, whatever its protocol: replay from `after`, then live, as
 * one ordered sequence with no gap and no duplicate at the seam.
 *
 * While behind, the session reads the store itself, a batch at a time, and waits for the
 * client to drain each write (so a replay never queues more than about one batch). Once it has
 * reached the stream's fan-out position it joins the fan-out and is pushed each batch the
 * fan-out reads (StreamFanout). A caught-up client that stops reading is not buffered for
 * without bound: when more than `maxBufferedBytes` are queued at the next push the connection
 * is closed, and the client, resuming from its last event id, replays what it missed.
 */
export class LiveSession implements FanoutSubscriber {
  /** The newest seq this connection has passed (delivered or filtered out). */
  private last: number;
  private fanout: StreamFanout | undefined;
  private closed = false;
  /** Something was written since the previous heartbeat sweep. */
  private active = false;

  constructor(
    private readonly options: LiveSessionOptions,
    readonly stream: string,
    after: number,
    private readonly filter: ((e: StoredEvent) => boolean) | undefined,
    private readonly transport: LiveTransport,
  ) {
    this.last = after;
  }

  /** Replays, then joins the live fan-out; resolves once caught up (or closed). */
  async start(): Promise<void> {
    const { hub, fanouts, replayBatchEvents } = this.options;
    try {
      while (!this.closed) {
        const target = fanouts.position(this.stream);
        if (this.last >= target) {
          this.fanout = fanouts.join(this.stream, this);
          return;
        }
        const events = await readAfter(hub, this.stream, this.last, replayBatchEvents);
        if (this.closed) return;
        if (events.length === 0) {
          // Removed by retention between our position and the fan-out's.
          this.reportGap(target + 1);
          this.last = target;
          continue;
        }
        for (const event of events) {
          if (!this.deliver(new LiveEvent(event))) await this.transport.drained();
          if (this.closed) return;
        }
      }
    } catch (err) {
      this.close('error');
      if (!(err instanceof HeraldError && err.code === 'store_closed')) throw err;
    }
  }

  push(batch: LiveBatch): void {
    if (this.closed) return;
    const { transport } = this;
    if (transport.bufferedBytes() > this.options.maxBufferedBytes) {
      this.options.metrics.slowDisconnects.inc({ protocol: transport.protocol });
      this.close('slow');
      return;
    }
    this.active = true;
    const events = batch.events;
    if (this.filter === undefined && batch.firstSeq === this.last + 1 && batch.lastSeq - batch.firstSeq === events.length - 1) {
      // The common case: the next run, nothing filtered, nothing removed.
      this.last = batch.lastSeq;
      this.options.metrics.countDeliveries(transport.protocol, events.length);
      transport.sendBatch(batch);
      return;
    }
    for (const event of events) this.deliver(event);
  }

  end(): void {
    this.close('error');
  }

  /** A heartbeat sweep: idle connections get a heartbeat. */
  sweep(): void {
    if (this.closed) return;
    if (!this.active) this.transport.heartbeat(this.last);
    this.active = false;
  }

  /** Ends the connection (idempotent); the transport calls it with `peer` when the client left. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.fanout?.remove(this);
    this.fanout = undefined;
    this.transport.close(reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one event unless already passed or filtered out; false when the caller should wait for drain. */
  private deliver(live: LiveEvent): boolean {
    const seq = live.event.seq;
    if (seq <= this.last) return true;
    if (seq > this.last + 1) this.reportGap(seq);
    this.last = seq;
    this.active = true;
    if (this.filter !== undefined && !this.filter(live.event)) return true;
    this.options.metrics.countDeliveries(this.transport.protocol, 1);
    return this.transport.sendEvent(live);
  }

  private reportGap(next: number): void {
    this.transport.sendGap({ after: this.last, next, missed: next - this.last - 1 });
  }
}

async function readAfter(hub: Hub, stream: string, after: number, limit: number): Promise<StoredEvent[]> {
  try {
    return await hub.read(stream, { after, limit });
  } catch (err) {
    if (err instanceof HeraldError && err.code === 'stream_not_found') return [];
    throw err;
  }
}

/**
 * The open live connections of a listener: one timer sends every idle connection its
 * heartbeat (rather than a timer per connection), and shutdown closes them all.
 */
export class LiveConnections {
  private readonly sessions = new Set<LiveSession>();
  private readonly timer: NodeJS.Timeout;

  constructor(heartbeatMs: number) {
    this.timer = setInterval(() => {
      for (const session of this.sessions) session.sweep();
    }, heartbeatMs);
    this.timer.unref();
  }

  add(session: LiveSession): void {
    this.sessions.add(session);
  }

  delete(session: LiveSession): void {
    this.sessions.delete(session);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes every connection (listener shutdown) and stops the heartbeat timer. */
  closeAll(): void {
    clearInterval(this.timer);
    for (const session of [...this.sessions]) session.close('shutdown');
    this.sessions.clear();
  }
}
