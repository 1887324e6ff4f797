import { Counter, Gauge, type Registry } from 'prom-client';

/** The live protocols, a bounded label. */
export type LiveProtocol = 'sse' | 'websocket' | 'eventpiper';

const PROTOCOLS: readonly LiveProtocol[] = ['sse', 'websocket', 'eventpiper'];

/**
 * Metrics of live connections: `herald_live_connections{protocol}`,
 * `herald_live_deliveries_total{protocol}` and `herald_live_slow_disconnects_total{protocol}`.
 * Deliveries are counted in plain numbers and handed to prom-client when it is read: a broadcast
 * to 10,000 connections must not cost 10,000 labelled increments.
 */
export class LiveMetrics {
  private readonly delivered: Record<LiveProtocol, number> = { sse: 0, websocket: 0, eventpiper: 0 };
  private readonly open: Record<LiveProtocol, number> = { sse: 0, websocket: 0, eventpiper: 0 };

  private constructor(registry: Registry) {
    const deliveries = new Counter({
      name: 'herald_live_deliveries_total',
      help: 'Events written to live connections (SSE, WebSocket, EventPiper), by protocol.',
      labelNames: ['protocol'] as const,
      registers: [registry],
      collect: () => {
        for (const p of PROTOCOLS) {
          if (this.delivered[p] > 0) deliveries.inc({ protocol: p }, this.delivered[p]);
          this.delivered[p] = 0;
        }
      },
    });
    const connections = new Gauge({
      name: 'herald_live_connections',
      help: 'Open live connections, by protocol.',
      labelNames: ['protocol'] as const,
      registers: [registry],
      collect: () => {
        for (const p of PROTOCOLS) connections.set({ protocol: p }, this.open[p]);
      },
    });
    this.slowDisconnects = new Counter({
      name: 'herald_live_slow_disconnects_total',
      help: 'Live connections closed because the client fell further behind than maxBufferedBytes, by protocol.',
      labelNames: ['protocol'] as const,
      registers: [registry],
    });
  }

  readonly slowDisconnects: Counter<'protocol'>;

  /** One set per registry (several listeners of one hub share it). */
  static of(registry: Registry): LiveMetrics {
    let metrics = byRegistry.get(registry);
    if (metrics === undefined) byRegistry.set(registry, (metrics = new LiveMetrics(registry)));
    return metrics;
  }

  countDeliveries(protocol: LiveProtocol, events: number): void {
    this.delivered[protocol] += events;
  }

  opened(protocol: LiveProtocol): void {
    this.open[protocol]++;
  }

  closed(protocol: LiveProtocol): void {
    this.open[protocol]--;
  }
}

const byRegistry = new WeakMap<Registry, LiveMetrics>();
