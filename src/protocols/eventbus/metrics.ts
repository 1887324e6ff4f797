import { Counter, Gauge, type Registry } from 'prom-client';
import type { Outcome } from './errors.js';

/**
 * The event-bus metrics: open connections, connections accepted and refused, requests by
 * operation and outcome, authentication failures. Requests are counted in plain numbers and
 * handed to prom-client when the registry is read (its labelled `inc` costs more than a
 * request's own work on the write path). One instance per registry, shared by listeners on it.
 */
export class EventBusMetrics {
  private static readonly byRegistry = new WeakMap<Registry, EventBusMetrics>();

  static for(registry: Registry): EventBusMetrics {
    let metrics = EventBusMetrics.byRegistry.get(registry);
    if (!metrics) EventBusMetrics.byRegistry.set(registry, (metrics = new EventBusMetrics(registry)));
    return metrics;
  }

  readonly connections: Gauge;
  readonly connectionsTotal: Counter<'outcome'>;
  private readonly requests: Counter<'operation' | 'outcome'>;
  private readonly authFailures: Counter;
  private readonly pending = new Map<string, { labels: { operation: string; outcome: Outcome }; n: number }>();
  private authPending = 0;

  private constructor(registry: Registry) {
    this.connections = new Gauge({ name: 'herald_eventbus_connections', help: 'Open event-bus connections.', registers: [registry] });
    this.connectionsTotal = new Counter({
      name: 'herald_eventbus_connections_total',
      help: 'Event-bus connections, by outcome: accepted, or refused over eventbus.maxConnections.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.requests = new Counter({
      name: 'herald_eventbus_requests_total',
      help: 'Event-bus requests, by operation (decode_request for lines naming none) and outcome.',
      labelNames: ['operation', 'outcome'] as const,
      registers: [registry],
      collect: () => this.flush(),
    });
    this.authFailures = new Counter({
      name: 'herald_eventbus_auth_failures_total',
      help: 'Event-bus requests refused for missing or wrong credentials.',
      registers: [registry],
      collect: () => this.flush(),
    });
  }

  /** Counts one answered request; `operation` is one of the protocol's names (bounded). */
  request(operation: string, outcome: Outcome): void {
    const key = `${operation} ${outcome}`;
    const series = this.pending.get(key);
    if (series) series.n++;
    else this.pending.set(key, { labels: { operation, outcome }, n: 1 });
    if (outcome === 'unauthorized') this.authPending++;
  }

  flush(): void {
    for (const series of this.pending.values()) {
      if (series.n === 0) continue;
      this.requests.inc(series.labels, series.n);
      series.n = 0;
    }
    if (this.authPending > 0) {
      this.authFailures.inc(this.authPending);
      this.authPending = 0;
    }
  }
}
