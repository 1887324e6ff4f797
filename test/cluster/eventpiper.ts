import postgres from 'postgres';
import { sseFrames, type Cluster } from './harness.js';

/**
 * The EventPiper side of a cluster: an application inserting rows into the EventPiper `events`
 * table (in the same PostgreSQL), and `GET /events` sessions on the nodes, which must receive
 * every row of their consumer exactly once, in id order. The inserter commits one row at a time,
 * so id order is commit order.
 */

export const SUBSCRIBER = 'cluster';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Inserts rows for SUBSCRIBER one at a time until stopped, retrying while the database is down. */
export async function insertLoop(url: string, signal: AbortSignal, stats: { inserted: number; failures: number }): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
  try {
    for (let n = 0; !signal.aborted; n++) {
      try {
        await sql`insert into events (type, timestamp, subscriber, payload) values ('insert', now(), ${SUBSCRIBER}, ${sql.json({ n })})`;
        stats.inserted++;
      } catch {
        stats.failures++; // the database is down: it may or may not have committed; the table says
        await sleep(50);
      }
      await sleep(15);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The ids of SUBSCRIBER's rows as committed, in id order. */
export async function committedRows(url: string): Promise<number[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql<Array<{ id: string }>>`select id from events where subscriber = ${SUBSCRIBER} order by id`).map((r) => Number(r.id));
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** One `GET /events` session of SUBSCRIBER on one node, resuming with Last-Event-ID after a disconnect. */
export class EventPiperSession {
  readonly ids: number[] = [];
  readonly violations: string[] = [];
  reconnects = 0;
  private connected!: () => void;
  /** Resolves once the first session is open (subscribed to live rows). */
  readonly open = new Promise<void>((resolve) => (this.connected = resolve));

  constructor(
    readonly name: string,
    private readonly cluster: Cluster,
    private readonly node: number,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    for (let first = true; !signal.aborted; first = false) {
      const base = this.cluster.listenerUrl(this.node, 'eventpiper');
      if (base) {
        if (!first) this.reconnects++;
        try {
          const last = this.ids.at(-1);
          const res = await fetch(`${base}/events`, { headers: { 'x-consumer-id': SUBSCRIBER, ...(last !== undefined ? { 'last-event-id': String(last) } : {}) }, signal });
          if (res.ok && res.body) {
            this.connected();
            await this.read(res.body);
          } else {
            await res.body?.cancel();
          }
        } catch {
          // disconnected: resume after the last id seen
        }
      }
      if (!signal.aborted) await sleep(50);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    // Heartbeat frames carry no id.
    for await (const { id } of sseFrames(body)) {
      if (id === undefined) continue;
      const seen = Number(id);
      const last = this.ids.at(-1);
      if (last !== undefined && seen <= last) this.violations.push(`${this.name}: id ${seen} after ${last}`);
      this.ids.push(seen);
    }
  }
}
