import { Counter, Gauge, type Registry } from 'prom-client';
import type { MazeStats } from './maze.js';

/**
 * The follower maze's Prometheus metrics. The maze counts in plain fields (a prom-client call
 * per event would show in profiles); the metrics read them when scraped. One set of metrics per
 * registry, summing every maze registered on it (tests run several hubs in one process).
 */

type StatsSource = () => MazeStats;

const GAUGES: Array<[name: string, help: string, field: keyof MazeStats]> = [
  ['herald_followermaze_next_seq', 'The next sequence number the follower maze waits for.', 'nextSeq'],
  ['herald_followermaze_events_waiting', 'Events received ahead of the next expected sequence number.', 'waiting'],
  ['herald_followermaze_clients_connected', 'Registered user client connections.', 'clients'],
  ['herald_followermaze_sources_connected', 'Event source connections.', 'sources'],
  ['herald_followermaze_users', 'Users in the follower graph.', 'users'],
  ['herald_followermaze_follows', 'Follow relations in the follower graph.', 'follows'],
];

const COUNTERS: Array<[name: string, help: string, field: keyof MazeStats]> = [
  ['herald_followermaze_events_dispatched_total', 'Events dispatched in sequence order.', 'dispatched'],
  ['herald_followermaze_notifications_total', 'Notifications sent to user clients.', 'notifications'],
  ['herald_followermaze_malformed_lines_total', 'Event source lines dropped as malformed (including overlong and incomplete ones).', 'malformed'],
  ['herald_followermaze_events_stale_total', 'Events dropped because their sequence number was already dispatched.', 'stale'],
  ['herald_followermaze_events_too_far_total', 'Events dropped for being followermaze.reorderWindow or more ahead.', 'tooFar'],
  ['herald_followermaze_client_registrations_total', 'User client registrations.', 'registrations'],
  ['herald_followermaze_clients_stalled_total', 'User clients disconnected for not reading their notifications.', 'stalledClients'],
];

class MazeMetrics {
  readonly sources = new Set<StatsSource>();
  /** What each counter reported so far. */
  private readonly reported = new Map<string, number>();
  /** Counter totals of mazes already removed, so a counter never goes back. */
  private readonly retired = new Map<keyof MazeStats, number>();

  constructor(registry: Registry) {
    for (const [name, help, field] of GAUGES) {
      const gauge: Gauge = new Gauge({ name, help, registers: [registry], collect: () => gauge.set(this.sum(field)) });
    }
    for (const [name, help, field] of COUNTERS) {
      const counter: Counter = new Counter({
        name,
        help,
        registers: [registry],
        collect: () => {
          const total = this.sum(field) + (this.retired.get(field) ?? 0);
          const delta = total - (this.reported.get(name) ?? 0);
          if (delta > 0) {
            counter.inc(delta);
            this.reported.set(name, total);
          }
        },
      });
    }
  }

  /** Stops reading `source`, keeping its counters' totals. */
  remove(source: StatsSource): void {
    if (!this.sources.delete(source)) return;
    const last = source();
    for (const [, , field] of COUNTERS) this.retired.set(field, (this.retired.get(field) ?? 0) + last[field]);
  }

  private sum(field: keyof MazeStats): number {
    let total = 0;
    for (const source of this.sources) total += source()[field];
    return total;
  }
}

const byRegistry = new WeakMap<Registry, MazeMetrics>();

/** Exposes a maze's stats on `registry`; returns the function that stops exposing them. */
export function exposeMazeMetrics(registry: Registry, stats: StatsSource): () => void {
  let metrics = byRegistry.get(registry);
  if (metrics === undefined) {
    metrics = new MazeMetrics(registry);
    byRegistry.set(registry, metrics);
  }
  metrics.sources.add(stats);
  const m = metrics;
  return () => m.remove(stats);
}
