import { HeraldError } from '../core/errors.js';
import type { StoredEvent } from '../core/event.js';
import type { Hub } from '../core/hub.js';
import { LiveBatch, LiveEvent } from './liveEvent.js';

/** A caught-up connection of a stream: it receives every batch the stream's fan-out reads. */
export interface FanoutSubscriber {
  /**
   * A batch of events after the fan-out's previous position. A subscriber that joined ahead of
   * the fan-out skips the events it already has (seq at or below its own position).
   */
  push(batch: LiveBatch): void;
  /** The fan-out stopped (the hub closed or the store failed): the connection should end. */
  end(err?: unknown): void;
}

/**
 * The per-stream live broadcaster. One loop per stream reads each new run of events from the
 * store once and hands the same batch (whose frames are encoded once per format) to every
 * caught-up connection, so 10,000 connections following a stream cost one store read per batch,
 * not 10,000. Connections that are behind (replaying, or resuming) read the store on their own
 * and join once they reach the fan-out's position; see LiveSession.
 */
export class StreamFanout {
  /** The seq of the newest event handed to subscribers. */
  position: number;
  private readonly subscribers = new Set<FanoutSubscriber>();
  private readonly abort = new AbortController();

  constructor(
    private readonly hub: Hub,
    readonly stream: string,
    private readonly batchEvents: number,
    private readonly onIdle: (fanout: StreamFanout) => void,
  ) {
    this.position = hub.store.head(stream);
    void this.run();
  }

  get size(): number {
    return this.subscribers.size;
  }

  add(subscriber: FanoutSubscriber): void {
    this.subscribers.add(subscriber);
  }

  /** Removes a subscriber; the last one out stops the loop. */
  remove(subscriber: FanoutSubscriber): void {
    if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
    this.stop();
  }

  /** Stops the loop without telling subscribers (the registry is closing them itself). */
  stop(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.onIdle(this);
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    try {
      while (!signal.aborted) {
        await this.hub.waitForEvents(this.stream, this.position, signal);
        if (signal.aborted) return;
        // The head before the read: events at or below it that the read does not return were
        // removed by retention, so the position may move past them.
        const head = this.hub.store.head(this.stream);
        const events = await this.readAfter(this.position);
        if (signal.aborted) return;
        if (events.length === 0) {
          if (!this.hub.store.isOpen) throw new HeraldError('store_closed', 'the store closed');
          // Everything up to the head was removed by retention before it could be read.
          this.position = Math.max(this.position, head);
          continue;
        }
        const batch = new LiveBatch(events.map((e) => new LiveEvent(e)));
        this.position = batch.lastSeq;
        for (const subscriber of this.subscribers) {
          try {
            subscriber.push(batch);
          } catch {
            // A failing connection must not stop the others; its own close path cleans it up.
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      this.abort.abort();
      this.onIdle(this);
      for (const subscriber of [...this.subscribers]) subscriber.end(err);
      this.subscribers.clear();
    }
  }

  private async readAfter(after: number): Promise<StoredEvent[]> {
    try {
      return await this.hub.read(this.stream, { after, limit: this.batchEvents });
    } catch (err) {
      if (err instanceof HeraldError && err.code === 'stream_not_found') return [];
      throw err;
    }
  }
}

/** The fan-outs of one listener, one per stream that has caught-up connections. */
export class FanoutRegistry {
  private readonly fanouts = new Map<string, StreamFanout>();

  constructor(
    private readonly hub: Hub,
    /** Events per shared store read. */
    private readonly batchEvents = 500,
  ) {}

  /**
   * The position a replaying connection must reach to join: the stream's fan-out position, or
   * the stream's head when nobody follows it yet.
   */
  position(stream: string): number {
    return this.fanouts.get(stream)?.position ?? this.hub.store.head(stream);
  }

  /** Adds a caught-up subscriber to the stream's fan-out, starting one when needed. */
  join(stream: string, subscriber: FanoutSubscriber): StreamFanout {
    let fanout = this.fanouts.get(stream);
    if (fanout === undefined) {
      fanout = new StreamFanout(this.hub, stream, this.batchEvents, (f) => {
        if (this.fanouts.get(f.stream) === f) this.fanouts.delete(f.stream);
      });
      this.fanouts.set(stream, fanout);
    }
    fanout.add(subscriber);
    return fanout;
  }

  /** Streams with a running fan-out (for tests and metrics). */
  get streams(): number {
    return this.fanouts.size;
  }

  /** Stops every loop (subscribers are closed by their owner). */
  close(): void {
    for (const fanout of [...this.fanouts.values()]) fanout.stop();
    this.fanouts.clear();
  }
}
