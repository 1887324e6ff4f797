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
  });

  readonly duplicatesIgnored = new Counter({
    name: 'herald_events_duplicate_total',
    help: 'Appends whose event id was already stored (answered with the original position).',
    registers: [this.registry],
  });

  readonly appendLatency = new Histogram({
    name: 'herald_append_duration_seconds',
    help: 'Time from a publish call to its durable commit.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
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

  readonly streams = new Gauge({
    name: 'herald_streams',
    help: 'Streams currently stored.',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
  }
}
