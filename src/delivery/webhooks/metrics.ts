import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from './circuitBreaker.js';

/** What the metrics need to read from a lane at scrape time. */
export interface LaneGauges {
  id: string;
  lag(): number;
  breakerState(): BreakerState;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Per-endpoint webhook metrics; the `endpoint` label is the subscription id (bounded by the number of endpoints). */
export class WebhookMetrics {
  readonly delivered: Counter<'endpoint'>;
  readonly failed: Counter<'endpoint'>;
  readonly retried: Counter<'endpoint'>;
  readonly dropped: Counter<'endpoint'>;
  readonly latency: Histogram<'endpoint'>;
  private readonly lanes = new Set<LaneGauges>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.delivered = new Counter({ name: 'herald_webhook_delivered_total', help: 'Events delivered (acknowledged by the endpoint).', labelNames: ['endpoint'], registers });
    this.failed = new Counter({ name: 'herald_webhook_failed_total', help: 'Events that exhausted their retries (moved to the dead letters).', labelNames: ['endpoint'], registers });
    this.retried = new Counter({ name: 'herald_webhook_retried_total', help: 'Failed attempts that will be retried.', labelNames: ['endpoint'], registers });
    this.dropped = new Counter({ name: 'herald_webhook_dropped_total', help: 'Events skipped: dropped by a bounded (go-sep) lane, or removed by retention before delivery.', labelNames: ['endpoint'], registers });
    this.latency = new Histogram({
      name: 'herald_webhook_attempt_duration_seconds',
      help: 'Time of each delivery attempt until the endpoint answered or failed.',
      labelNames: ['endpoint'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const lanes = this.lanes;
    new Gauge({
      name: 'herald_webhook_lag_events',
      help: 'Events of the stream not yet finished by the endpoint (head minus position).',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const lane of lanes) this.set({ endpoint: lane.id }, lane.lag());
      },
    });
    new Gauge({
      name: 'herald_webhook_breaker_state',
      help: 'Circuit breaker of the endpoint: 0 closed, 1 half-open, 2 open.',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const lane of lanes) this.set({ endpoint: lane.id }, BREAKER_VALUE[lane.breakerState()]);
      },
    });
  }

  track(lane: LaneGauges): () => void {
    this.lanes.add(lane);
    return () => {
      this.lanes.delete(lane);
      for (const metric of [this.delivered, this.failed, this.retried, this.dropped, this.latency]) metric.remove({ endpoint: lane.id });
    };
  }
}
