import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { EventInput } from '../core/event.js';
import type { Hub } from '../core/hub.js';
import { assertEventField } from '../core/names.js';
import type { Logger } from '../observability/logger.js';
import type { EventRow } from './eventRow.js';
import { IdTracker } from './idTracker.js';
import type { PostgresListenSource } from './postgresListen.js';

export const MIRROR_LEASE = 'eventpiper-source';
const KV_COLLECTION = 'eventpiper';

/**
 * Appends every EventPiper row to a Herald stream, so every other protocol can read it.
 *
 * Several Herald nodes may share one database (and one store): only the holder of the store
 * lease `eventpiper-source` appends (renewed every third of `leaseMs`; another node takes over
 * within `leaseMs` of the holder's death). Each row becomes the event `eventpiper:<id>`, so
 * appending a row twice (a handover, a catch-up overlapping live rows) stores it once.
 *
 * The mirror's position is kept in the store (`kv eventpiper/mirror:<stream>`): a node that takes
 * the lease, or restarts, first appends the rows above it from the table, then follows live rows.
 * Rows commit (and arrive) in commit order, not id order, so the position is not the highest id
 * appended but the highest below which every id was appended (IdTracker.settled): with id 7
 * appended while 6 is still uncommitted, the position stays at 5, and a successor appends 6
 * when it commits instead of starting after 7 and never seeing it.
 */
export class EventPiperMirror {
  private readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private holding = false;
  private queue: EventRow[] = [];
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly unsubscribe: () => void;
  /** The ids appended since this node took the lease (from the stored position on). */
  private appended: IdTracker | undefined;
  /** When the lease lapses unless renewed (performance.now() time; see holds()). */
  private validUntil = 0;

  constructor(
    private readonly hub: Hub,
    private readonly source: PostgresListenSource,
    private readonly stream: string,
    private readonly log: Logger,
    private readonly leaseMs = 30_000,
  ) {
    this.unsubscribe = source.subscribe((row) => {
      if (!this.holds()) return;
      this.queue.push(row);
      this.kick();
    });
  }

  start(): void {
    void this.renew();
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** True while this node holds the lease and appends rows. */
  get isHolder(): boolean {
    return this.holding && performance.now() < this.validUntil;
  }

  /**
   * True while this node holds a lease that has not lapsed. The term is counted from before the
   * request that took or renewed the lease, so it ends no later than the database's expiry (the
   * time another node may take over): two nodes never append at once, which would interleave
   * their rows out of order. A lapsed lease (the store did not answer the renewals) stops the
   * appends; once renewed, the node catches up from the stored position again.
   */
  private holds(): boolean {
    if (this.holding && performance.now() >= this.validUntil) {
      this.holding = false;
      this.queue = [];
      this.log.warn('EventPiper mirror: the lease lapsed without a renewal; appending stops until it is renewed');
    }
    return this.holding;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe();
    await this.running;
    if (this.holding && this.hub.store.isOpen) await this.hub.store.releaseLease(MIRROR_LEASE, this.holder).catch(() => {});
    this.holding = false;
  }

  private async renew(): Promise<void> {
    if (this.stopped || !this.hub.store.isOpen) return;
    try {
      const asked = performance.now();
      const held = await this.hub.store.acquireLease(MIRROR_LEASE, this.holder, this.leaseMs);
      if (held) this.validUntil = asked + this.leaseMs;
      if (held && !this.holding) {
        this.appended = undefined; // until the catch-up starts from the stored position
        this.holding = true;
        this.log.info({ stream: this.stream }, 'EventPiper mirror: this node appends rows to the Herald stream');
        await this.source.ready;
        this.enqueue(() => this.catchUp());
      } else if (!held && this.holding) {
        this.holding = false;
        this.queue = [];
        this.log.info('EventPiper mirror: the lease moved to another node');
      }
    } catch (err) {
      this.log.warn({ err }, 'EventPiper mirror: renewing the lease failed');
    }
  }

  /** Appends the rows above the stored position (after a restart or a lease handover). */
  private async catchUp(): Promise<void> {
    const from = (await this.hub.store.kvGet<number>(KV_COLLECTION, this.positionKey)) ?? 0;
    this.appended = new IdTracker(from);
    for await (const page of this.source.rowsAfter(from)) {
      if (this.stopped || !this.holds()) return;
      await this.append(page);
    }
  }

  private kick(): void {
    this.enqueue(async () => {
      while (this.queue.length > 0 && this.holds() && !this.stopped) {
        const rows = this.queue.splice(0, 1000);
        await this.append(rows);
      }
    });
  }

  /** Runs mirror work one piece at a time, in order. */
  private enqueue(work: () => Promise<void>): void {
    const previous = this.running ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => {
      this.log.error({ err }, 'EventPiper mirror: appending rows failed; they are appended again after the next lease renewal');
      // Forget the lease so the next renewal catches up from the stored position.
      this.holding = false;
      this.queue = [];
    });
    this.running = next;
  }

  private async append(rows: EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.hub.publishBatch(rows.map((row) => toEvent(this.stream, row)), { createStreams: true });
    const appended = this.appended;
    if (!appended) return;
    for (const row of rows) appended.accept(row.id);
    const settled = appended.settled;
    const stored = (await this.hub.store.kvGet<number>(KV_COLLECTION, this.positionKey)) ?? 0;
    if (settled > stored) await this.hub.store.kvWrite([{ collection: KV_COLLECTION, key: this.positionKey, value: settled }]);
  }

  private get positionKey(): string {
    return `mirror:${this.stream}`;
  }
}

/**
 * A row as a Herald event: id `eventpiper:<id>`, the row's type and subscriber as type and
 * subject (when they are valid Herald values; every row keeps them in headers), the payload as
 * JSON.
 */
export function toEvent(stream: string, row: EventRow): EventInput {
  const event: EventInput = {
    stream,
    id: `eventpiper:${row.id}`,
    contentType: 'application/json',
    data: Buffer.from(row.payloadJson, 'utf8'),
    headers: { 'eventpiper-id': String(row.id), 'eventpiper-type': row.type, 'eventpiper-subscriber': row.subscriber, 'eventpiper-timestamp': row.timestamp },
  };
  if (isValidField('type', row.type)) event.type = row.type;
  if (isValidField('subject', row.subscriber)) event.subject = row.subscriber;
  return event;
}

function isValidField(field: 'type' | 'subject', value: string): boolean {
  try {
    assertEventField(field, value);
    return true;
  } catch {
    return false;
  }
}
