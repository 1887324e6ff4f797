import { EventBusClient, type EventBusEvent, type EventBusStatus } from '../../src/protocols/eventbus/client.js';
import type { Cluster } from './harness.js';

/**
 * Event-bus clients of a cluster (the typed client of src/protocols/eventbus/client.ts): a writer
 * through one node, a processor and a retrier through two others, each reconnecting to another
 * node while its own is down. The processor marks some events 2 (retry) the first time it sees
 * them; only the retrier, on another node, marks those 1: so the stream ends fully processed
 * only if each node sees the marks made on the others.
 */

const CLIENT = { clientId: 'cluster', clientSecret: 'cluster-secret' };
/** The env that lets the cluster's nodes accept these clients. */
export const EVENTBUS_ENV = { HERALD_EVENTBUS_CLIENTS: JSON.stringify([{ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }]) };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connection to node `home`'s event-bus listener (the next live node while home is down), opened again after any failure. */
export class EventBusLink {
  private client: EventBusClient | undefined;
  private node = -1;

  constructor(
    private readonly cluster: Cluster,
    private readonly home: number,
  ) {}

  /** Runs `op` on a connection; rejects on any failure, after which the next call connects afresh. */
  async use<T>(op: (client: EventBusClient) => Promise<T>): Promise<T> {
    try {
      return await op(await this.connect());
    } catch (err) {
      void this.client?.close();
      this.client = undefined;
      throw err;
    }
  }

  /** The node the last connection went to. */
  get connectedTo(): number {
    return this.node;
  }

  private async connect(): Promise<EventBusClient> {
    if (this.client && (this.node === this.home || this.cluster.url(this.home) === undefined)) return this.client;
    void this.client?.close();
    this.client = undefined;
    for (let k = 0; k < this.cluster.size; k++) {
      const n = (this.home + k) % this.cluster.size;
      const address = this.cluster.listenerUrl(n, 'eventbus');
      if (!address) continue;
      this.client = await EventBusClient.connect(address, CLIENT);
      this.node = n;
      return this.client;
    }
    throw new Error('no node is up');
  }

  close(): void {
    void this.client?.close();
  }
}

export interface EventBusWriterStats {
  /** Values of `k` whose write_event was acknowledged, in order. */
  acked: number[];
  /** Values of `k` whose write failed at least once (it may have been stored anyway, then written again). */
  uncertain: Set<number>;
  attempted: number;
}

/** Writes `{"k": 0}`, `{"k": 1}`, … one at a time, each until acknowledged. */
export async function eventBusWriteLoop(link: EventBusLink, stream: string, signal: AbortSignal, stats: EventBusWriterStats): Promise<void> {
  for (let k = 0; !signal.aborted; k++) {
    stats.attempted = k + 1;
    for (let attempt = 0; ; attempt++) {
      try {
        await link.use((c) => c.writeEvent(stream, { k }));
        stats.acked.push(k);
        break;
      } catch {
        stats.uncertain.add(k);
        if (signal.aborted && attempt > 200) return;
        await sleep(50);
      }
    }
  }
}

const keyOf = (e: EventBusEvent): number => (e.body as { k: number }).k;

/** Reads process_events (role `processor`) or retry_events (role `retrier`) through its node, marking what it gets. */
export class EventBusConsumer {
  /** Events this processor sent to retry (2), and events this retrier marked processed. */
  readonly handled = new Set<string>();
  readonly violations: string[] = [];
  errors = 0;

  constructor(
    readonly name: string,
    private readonly link: EventBusLink,
    private readonly stream: string,
    private readonly role: 'processor' | 'retrier',
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let got = 0;
      try {
        got = await this.link.use(async (c) => {
          const events = this.role === 'processor' ? await c.processEvents(this.stream) : await c.retryEvents(this.stream);
          this.checkOrder(events);
          await Promise.all(events.map((e) => c.markEvent(e.id, this.statusFor(e))));
          return events.length;
        });
      } catch {
        this.errors++; // a node or the database went away: try again
      }
      if (got === 0) await sleep(30);
    }
  }

  /** The processor sends every fourth event to retry the first time it sees it; everything else is processed. */
  private statusFor(e: EventBusEvent): EventBusStatus {
    if (this.role === 'retrier') {
      this.handled.add(e.id);
      return 1;
    }
    if (keyOf(e) % 4 === 0 && !this.handled.has(e.id)) {
      this.handled.add(e.id);
      return 2;
    }
    return 1;
  }

  /** Replies list events oldest first: with one writer, its k never goes down within a reply. */
  private checkOrder(events: EventBusEvent[]): void {
    for (let i = 1; i < events.length; i++) {
      if (keyOf(events[i]!) < keyOf(events[i - 1]!)) this.violations.push(`${this.name}: k ${keyOf(events[i]!)} after ${keyOf(events[i - 1]!)}`);
    }
  }
}

/** What one node answers for the stream: every event with its status, and the pending and retry lists. */
export async function eventBusView(cluster: Cluster, node: number, stream: string): Promise<{ all: EventBusEvent[]; pending: number; retry: number }> {
  const link = new EventBusLink(cluster, node);
  try {
    return await link.use(async (c) => {
      if (link.connectedTo !== node) throw new Error(`node ${node} is down`);
      const [all, pending, retry] = await Promise.all([c.getStreamEvents(stream), c.processEvents(stream), c.retryEvents(stream)]);
      return { all, pending: pending.length, retry: retry.length };
    });
  } finally {
    link.close();
  }
}
