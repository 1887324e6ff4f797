import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric Herald exports, on a registry of its own (so several hubs can live in
 * one process, as they do in tests). Names carry the `herald_` prefix and base units; labels are
 * bounded (stream, route, status — never an event id).
 */
export class HeraldMetrics {
  readonly registry = new Registry();

  readonly eventsAppended = new Counter({
    name: 'herald_events_appended_total',
    help: 'Events durably appended, by stream.',
    labelNames: ['stream'] as const,
    registers: [this.registry],
    collect: () => this.flushPublishes(),
  });

  readonly duplicatesIgnored = new Counter({
    name: 'herald_events_duplicate_total',
    help: 'Appends whose event id was already stored (answered with the original position).',
    registers: [this.registry],
    collect: () => this.flushPublishes(),
  });

  readonly appendLatency = new Histogram({
    name: 'herald_append_duration_seconds',
    help: 'Time from a publish call to its durable commit.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
    collect: () => this.flushPublishes(),
  });

  readonly commitBatchSize = new Histogram({
    name: 'herald_commit_batch_events',
    help: 'Events per group commit.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384],
    registers: [this.registry],
  });

  readonly commitDuration = new Histogram({
    name: 'herald_commit_duration_seconds',
    help: 'Duration of one durable group commit.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  readonly retentionRemoved = new Counter({
    name: 'herald_retention_removed_total',
    help: 'Events removed by retention policies.',
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'herald_http_requests_total',
    help: 'HTTP requests, by route pattern, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern.',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  /** Counts the streams when the gauge is read; set by the hub that owns the store. */
  countStreams: (() => Promise<number>) | undefined;

  readonly streams = new Gauge({
    name: 'herald_streams',
    help: 'Streams currently stored.',
    registers: [this.registry],
    // Derived from the store at read time: streams are also created by publishing, deleted by
    // admins, so counting them as they change would drift.
    collect: async () => {
      // A store that cannot answer (a lost database) leaves the last count: the scrape must not
      // fail when metrics matter most.
      if (this.countStreams) await this.countStreams().then((n) => this.streams.set(n), () => undefined);
    },
  });

  /** Whether the store takes writes (what /ready answers); set by the hub that owns the store. */
  storeReady: (() => boolean) | undefined;

  readonly ready = new Gauge({
    name: 'herald_store_ready',
    help: '1 while the store is open and takes writes (/ready answers 200), 0 while it is closed or its database is unreachable.',
    registers: [this.registry],
    collect: () => {
      if (this.storeReady) this.ready.set(this.storeReady() ? 1 : 0);
    },
  });

  /**
   * Publish samples not yet handed to prom-client. Its labelled `inc` and `observe` hash and
   * validate labels on every call, which showed on the one-event publish path; so publishes are
   * counted here and handed over in bulk when the buffer fills and whenever one of the three
   * metrics is read (prom-client calls `collect` before every read), so readers see exact values.
   */
  private readonly appendedPending = new Map<string, number>();
  private duplicatesPending = 0;
  private readonly latencies = new Float64Array(PUBLISH_BUFFER);
  private latencyCount = 0;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
  }

  /** Records one publish: events appended to `stream` (not duplicates), duplicates, duration. */
  recordPublish(stream: string | undefined, appended: number, duplicates: number, seconds: number): void {
    if (appended > 0 && stream !== undefined) this.appendedPending.set(stream, (this.appendedPending.get(stream) ?? 0) + appended);
    this.duplicatesPending += duplicates;
    this.latencies[this.latencyCount] = seconds;
    if (++this.latencyCount === PUBLISH_BUFFER) this.flushPublishes();
  }

  /** Records events appended to one stream by a publish whose duration is recorded apart. */
  recordAppended(stream: string, appended: number): void {
    this.appendedPending.set(stream, (this.appendedPending.get(stream) ?? 0) + appended);
  }

  /** Hands every buffered publish sample to prom-client. */
  flushPublishes(): void {
    if (this.appendedPending.size > 0) {
      for (const [stream, n] of this.appendedPending) this.eventsAppended.inc({ stream }, n);
      this.appendedPending.clear();
    }
    if (this.duplicatesPending > 0) {
      this.duplicatesIgnored.inc(this.duplicatesPending);
      this.duplicatesPending = 0;
    }
    for (let i = 0; i < this.latencyCount; i++) this.appendLatency.observe(this.latencies[i]!);
    this.latencyCount = 0;
  }
}

const PUBLISH_BUFFER = 1024;
