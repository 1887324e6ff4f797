import type { AppendResult, EventInput, StoredEvent } from './event.js';
import { HeraldError } from './errors.js';
import { HeadWaiters } from './headWaiters.js';
import type { AppendOptions, ReadOptions, Store, StreamInfo, StreamOptions } from '../store/types.js';
import { HeraldMetrics } from '../observability/metrics.js';
import { silentLogger, type Logger } from '../observability/logger.js';

export interface HubOptions {
  store: Store;
  metrics?: HeraldMetrics;
  logger?: Logger;
  /** Create a stream on its first publish (default true). */
  createStreamsOnPublish?: boolean;
  /** How often retention runs, in ms (default 10 s; 0 turns the timer off). */
  retentionIntervalMs?: number;
}

export interface TailOptions {
  /** Start after this seq (default 0: from the first stored event). */
  after?: number;
  /** Ends the tail; the iterator then returns. */
  signal?: AbortSignal;
  /** Events fetched per store read (default 500). */
  batchSize?: number;
}

/**
 * The hub: owns the store, publishes, reads, and serves live tails. Ingress adapters call
 * `publish`; egress adapters read from a position with `tail`, which is replay and live delivery
 * in one loop (so the seam between them can neither miss nor repeat an event).
 */
export class Hub {
  readonly store: Store;
  readonly metrics: HeraldMetrics;
  readonly logger: Logger;
  private readonly createStreams: boolean;
  private readonly waiters = new HeadWaiters();
  private readonly unsubscribe: () => void;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRunning = false;
  private closed = false;

  constructor(options: HubOptions) {
    this.store = options.store;
    this.metrics = options.metrics ?? new HeraldMetrics({ processMetrics: false });
    this.logger = (options.logger ?? silentLogger()).child({ component: 'hub' });
    this.createStreams = options.createStreamsOnPublish ?? true;
    this.unsubscribe = this.store.onAppend((stream) => this.waiters.wake(stream));
    this.metrics.countStreams = async () => (await this.store.listStreams()).length;
    this.metrics.storeReady = () => this.store.isOpen;
    this.store.onCommit = (events, seconds) => {
      if (events > 0) this.metrics.commitBatchSize.observe(events);
      this.metrics.commitDuration.observe(seconds);
    };
    const interval = options.retentionIntervalMs ?? 10_000;
    if (interval > 0) {
      this.retentionTimer = setInterval(() => void this.runRetention(), interval);
      this.retentionTimer.unref();
    }
  }

  /** Opens the store (if it is not open yet). */
  async start(): Promise<void> {
    if (!this.store.isOpen) await this.store.open();
  }

  /** Publishes one event; resolves once it is durable. */
  publish(event: EventInput, options?: AppendOptions): Promise<AppendResult> {
    // The hot path: no async wrappers around the store's promise, so a publish costs one
    // promise hop here rather than a chain of them.
    const started = performance.now();
    let appended: Promise<AppendResult[]>;
    try {
      appended = this.store.append([event], { createStreams: options?.createStreams ?? this.createStreams });
    } catch (err) {
      return Promise.reject(err);
    }
    return appended.then((results) => {
      const r = results[0]!;
      if (r.duplicate) this.metrics.recordPublish(undefined, 0, 1, (performance.now() - started) / 1000);
      else this.metrics.recordPublish(r.stream, 1, 0, (performance.now() - started) / 1000);
      return r;
    });
  }

  /** Publishes several events in one commit, all or none; resolves once durable. */
  publishBatch(events: EventInput[], options: AppendOptions = {}): Promise<AppendResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    const started = performance.now();
    // No async frame holding `events` until the commit: once the store has taken them, the
    // events (and the request body their payloads are views of) can be collected young.
    let appended: Promise<AppendResult[]>;
    try {
      appended = this.store.append(events, { createStreams: options.createStreams ?? this.createStreams });
    } catch (err) {
      return Promise.reject(err);
    }
    return appended.then((results) => {
      this.countBatch(results, started);
      return results;
    });
  }

  private countBatch(results: AppendResult[], started: number): void {
    let duplicates = 0;
    let stream: string | undefined;
    let run = 0;
    // Count per stream with few look-ups: batches are usually one stream.
    for (const r of results) {
      if (r.duplicate) {
        duplicates++;
        continue;
      }
      if (r.stream !== stream) {
        if (stream !== undefined) this.metrics.recordAppended(stream, run);
        stream = r.stream;
        run = 0;
      }
      run++;
    }
    this.metrics.recordPublish(stream, run, duplicates, (performance.now() - started) / 1000);
  }

  read(stream: string, options?: ReadOptions): Promise<StoredEvent[]> {
    return this.store.read(stream, options);
  }

  /**
   * Stored events after `options.after`, then live ones as they are committed, in seq order with
   * no gap or duplicate, until the signal aborts or the hub closes. Waits for a stream that does
   * not exist yet. Events removed by retention before they were read are skipped; compare a
   * yielded seq with the previous one to detect that.
   */
  async *tail(stream: string, options: TailOptions = {}): AsyncGenerator<StoredEvent> {
    let after = options.after ?? 0;
    const limit = options.batchSize ?? 500;
    const { signal } = options;
    while (!signal?.aborted && !this.closed) {
      let events: StoredEvent[] = [];
      try {
        events = await this.store.read(stream, { after, limit });
      } catch (err) {
        if (!(err instanceof HeraldError && err.code === 'stream_not_found')) throw err;
      }
      if (events.length === 0) {
        await this.waiters.wait(stream, after, () => this.store.head(stream), signal);
        continue;
      }
      for (const event of events) {
        if (signal?.aborted) return;
        yield event;
        after = event.seq;
      }
    }
  }

  /** Resolves once the stream's head passes `after` (or the signal aborts). */
  waitForEvents(stream: string, after: number, signal?: AbortSignal): Promise<void> {
    return this.waiters.wait(stream, after, () => this.store.head(stream), signal);
  }

  createStream(name: string, options?: StreamOptions): Promise<StreamInfo> {
    return this.store.createStream(name, options);
  }

  putStream(name: string, options: StreamOptions): Promise<{ info: StreamInfo; created: boolean }> {
    return this.store.putStream(name, options);
  }

  deleteStream(name: string): Promise<boolean> {
    return this.store.deleteStream(name);
  }

  getStream(name: string): Promise<StreamInfo | undefined> {
    return this.store.getStream(name);
  }

  listStreams(): Promise<StreamInfo[]> {
    return this.store.listStreams();
  }

  /** Applies every stream's retention policy now (the timer calls this too). */
  async runRetention(now?: Date): Promise<number> {
    if (this.retentionRunning || !this.store.isOpen) return 0;
    this.retentionRunning = true;
    try {
      const removed = await this.store.applyRetention(now);
      if (removed > 0) {
        this.metrics.retentionRemoved.inc(removed);
        this.logger.debug({ removed }, 'retention removed events');
      }
      return removed;
    } catch (err) {
      this.logger.error({ err }, 'retention failed');
      return 0;
    } finally {
      this.retentionRunning = false;
    }
  }

  /** Ends live tails, then closes the store once every pending append is committed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.retentionTimer);
    this.waiters.wakeAll();
    this.unsubscribe();
    await this.store.close();
  }
}
