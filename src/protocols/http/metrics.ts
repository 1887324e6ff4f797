import type { HeraldMetrics } from '../../observability/metrics.js';

/** The route label of requests that matched no route: raw URLs would make labels unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Samples buffered before a flush; a flush also runs every FLUSH_MS and before /metrics. */
const CAPACITY = 1024;
const FLUSH_MS = 1000;

interface Series {
  labels: { route: string; method: string; status: string };
  pending: number;
}

interface Observe {
  observe(value: number): void;
}

/**
 * Records `herald_http_requests_total` and `herald_http_request_duration_seconds`.
 *
 * prom-client builds a label hash string and validates the labels on every `inc`/`observe`;
 * on the publish hot path that measured as much as the JSON check and the store append
 * together. So a request only bumps a counter in a cached series object and puts its duration
 * in a typed array; the buffered samples go to prom-client in bulk (the same public calls, in
 * a tight loop) when the buffer fills, every second, and before /metrics renders. Another
 * reader of the registry sees HTTP metrics at most a second old. The series cache is bounded
 * by routes × methods × statuses.
 */
export class HttpMetrics {
  /** route → method → status → series. */
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();
  private readonly histograms = new Map<string, Observe>();
  private readonly durations = new Float64Array(CAPACITY);
  private readonly durationRoutes: Observe[] = new Array<Observe>(CAPACITY);
  private buffered = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly metrics: HeraldMetrics) {
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  record(route: string, method: string, status: number, seconds: number): void {
    let methods = this.series.get(route);
    if (methods === undefined) this.series.set(route, (methods = new Map()));
    let statuses = methods.get(method);
    if (statuses === undefined) methods.set(method, (statuses = new Map()));
    let series = statuses.get(status);
    if (series === undefined) statuses.set(status, (series = { labels: { route, method, status: String(status) }, pending: 0 }));
    series.pending++;
    let histogram = this.histograms.get(route);
    if (histogram === undefined) this.histograms.set(route, (histogram = this.metrics.httpDuration.labels(route)));
    this.durations[this.buffered] = seconds;
    this.durationRoutes[this.buffered] = histogram;
    if (++this.buffered === CAPACITY) this.flush();
  }

  /** Hands every buffered sample to prom-client. */
  flush(): void {
    for (const methods of this.series.values()) {
      for (const statuses of methods.values()) {
        for (const series of statuses.values()) {
          if (series.pending === 0) continue;
          this.metrics.httpRequests.inc(series.labels, series.pending);
          series.pending = 0;
        }
      }
    }
    for (let i = 0; i < this.buffered; i++) this.durationRoutes[i]!.observe(this.durations[i]!);
    this.buffered = 0;
  }

  /** Flushes and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
