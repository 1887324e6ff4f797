import type { HeraldMetrics } from '../../observability/metrics.js';

/** The route label of requests that matched no route: raw URLs would make labels unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

interface Inc {
  inc(): void;
}
interface Observe {
  observe(value: number): void;
}

/**
 * Records `herald_http_requests_total` and `herald_http_request_duration_seconds` per request.
 * The labelled children are cached: prom-client hashes the label set on every `inc(labels)`,
 * which is measurable at tens of thousands of requests per second. The key space is bounded
 * (route patterns × methods × statuses), so the cache is too.
 */
export class HttpMetrics {
  private readonly counters = new Map<string, Inc>();
  private readonly histograms = new Map<string, Observe>();

  constructor(private readonly metrics: HeraldMetrics) {}

  record(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = this.metrics.httpRequests.labels(route, method, String(status));
      this.counters.set(key, counter);
    }
    counter.inc();
    let histogram = this.histograms.get(route);
    if (histogram === undefined) {
      histogram = this.metrics.httpDuration.labels(route);
      this.histograms.set(route, histogram);
    }
    histogram.observe(seconds);
  }
}
