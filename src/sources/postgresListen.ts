import postgres, { type Sql } from 'postgres';
import type { Logger } from '../observability/logger.js';
import { parseEventRow, type EventRow } from './eventRow.js';
import { ensureEventPiperSchema } from './eventpiperSchema.js';
import { IdTracker } from './idTracker.js';

export interface PostgresListenOptions {
  /** PostgreSQL URL. */
  url: string;
  log: Logger;
  /** Rows per query when catching up or replaying. */
  pageSize: number;
  /** Longest wait between reconnect attempts (ms); backoff doubles from 100 ms. */
  reconnectMaxMs: number;
}

export type RowListener = (row: EventRow) => void;

const CHANNEL = 'new_events';

/** `row_to_json` of each selected row: the same JSON the trigger notifies, so one parser serves both. */
const ROW_JSON = 'row_to_json(e)::text AS j';

/**
 * The EventPiper source: one LISTEN connection on `new_events` for the whole process, and a
 * small pool for queries. Every new row is passed to the listeners exactly once, in the order
 * it arrives (commit order).
 *
 * Beyond the original: when the LISTEN connection is lost, it reconnects with backoff, and once
 * listening again reads the rows it missed from the table (ids above the highest it saw, and
 * the holes below it that a slow transaction may still fill; IdTracker), so no row is lost to
 * the gap. Notifications arriving during that catch-up wait until it has finished, so rows are
 * passed on in id order within the catch-up and none twice.
 */
export class PostgresListenSource {
  /** The query pool (replays, catch-up, schema). */
  readonly sql: Sql;
  private readonly listenSql: Sql;
  private readonly listeners = new Set<RowListener>();
  private tracker: IdTracker | undefined;
  private catchingUp = true;
  private held: string[] = [];
  private stopped = false;
  private connecting: Promise<void> | undefined;
  private readyOnce = false;
  private readyResolve!: () => void;
  /** Resolves once the schema exists and the source listens (the first time). */
  readonly ready: Promise<void>;

  constructor(private readonly options: PostgresListenOptions) {
    const quiet = { onnotice: () => {} };
    this.sql = postgres(options.url, { ...quiet, max: 4, connect_timeout: 10 });
    // A dedicated single connection: postgres.js's own listen() re-listens after a drop but
    // gives up silently if that first attempt fails (the database still down), so Herald
    // drives the reconnects itself. `onnotify` is passed through by postgres.js but not typed.
    const listenOptions = {
      ...quiet,
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: 10,
      fetch_types: false,
      onnotify: (channel: string, payload: string) => {
        if (channel === CHANNEL) this.notified(payload);
      },
      onclose: () => this.lost(),
    };
    this.listenSql = postgres(options.url, listenOptions as postgres.Options<{}>);
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
  }

  /** Starts connecting in the background (retrying with backoff); see `ready`. */
  start(): void {
    this.connect();
  }

  /** Adds a listener for new rows; returns the function that removes it. */
  subscribe(listener: RowListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while the LISTEN connection is up and caught up. */
  get live(): boolean {
    return !this.catchingUp && !this.stopped;
  }

  /**
   * A consumer's rows with id above `after`, in id order, a page per query (never one long
   * transaction, unlike the original).
   */
  async *replay(subscriber: string, after: number, signal?: AbortSignal): AsyncGenerator<EventRow[]> {
    let cursor = after;
    while (!signal?.aborted) {
      const rows = await this.sql.unsafe<Array<{ j: string }>>(
        `SELECT ${ROW_JSON} FROM events e WHERE e.subscriber = $1 AND e.id > $2 ORDER BY e.id LIMIT $3`,
        [subscriber, cursor, this.options.pageSize],
      );
      const parsed = parseRows(rows);
      if (parsed.length > 0) yield parsed;
      if (rows.length < this.options.pageSize) return;
      cursor = parsed.length > 0 ? parsed[parsed.length - 1]!.id : cursor + this.options.pageSize;
    }
  }

  /**
   * Rows of every subscriber with id above `after`, a page per query (the mirror's catch-up).
   */
  async *rowsAfter(after: number): AsyncGenerator<EventRow[]> {
    let cursor = after;
    for (;;) {
      const rows = await this.sql.unsafe<Array<{ j: string }>>(`SELECT ${ROW_JSON} FROM events e WHERE e.id > $1 ORDER BY e.id LIMIT $2`, [cursor, this.options.pageSize]);
      const parsed = parseRows(rows);
      if (parsed.length > 0) yield parsed;
      if (rows.length < this.options.pageSize || parsed.length === 0) return;
      cursor = parsed[parsed.length - 1]!.id;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([this.listenSql.end({ timeout: 1 }), this.sql.end({ timeout: 1 })]);
  }

  private lost(): void {
    if (this.stopped) return;
    this.catchingUp = true;
    this.options.log.warn('the PostgreSQL LISTEN connection closed; reconnecting');
    this.connect();
  }

  private connect(): void {
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = undefined;
    });
  }

  /** Until it works: (first time) the schema and the starting id, then LISTEN, then catch-up. */
  private async connectLoop(): Promise<void> {
    const { log, reconnectMaxMs } = this.options;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        this.catchingUp = true;
        if (this.tracker === undefined) {
          await ensureEventPiperSchema(this.sql);
          // The highest id before listening: rows after it are caught up below.
          const [row] = await this.sql<Array<{ max: string | null }>>`SELECT max(id)::text AS max FROM events`;
          this.tracker = new IdTracker(Number(row?.max ?? 0));
        }
        await this.listenSql.unsafe(`LISTEN ${CHANNEL}`);
        const caughtUp = await this.catchUp();
        this.catchingUp = false;
        this.release();
        if (this.readyOnce) log.info({ caughtUp }, 'the PostgreSQL LISTEN connection is back; missed rows were read from the table');
        this.readyOnce = true;
        this.readyResolve();
        return;
      } catch (err) {
        if (this.stopped) return;
        const wait = Math.min(reconnectMaxMs, 100 * 2 ** Math.min(attempt, 16));
        log.warn({ err: String(err), retryInMs: wait }, 'EventPiper source: PostgreSQL not reachable');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Rows committed while not listening: in the holes, then above the highest id, in id order. */
  private async catchUp(): Promise<number> {
    const tracker = this.tracker!;
    let accepted = 0;
    const holes = tracker.openHoles();
    if (holes.length > 0) {
      const rows = await this.sql.unsafe<Array<{ j: string }>>(`SELECT ${ROW_JSON} FROM events e WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`, [holes]);
      for (const row of parseRows(rows)) if (this.accept(row)) accepted++;
    }
    for await (const page of this.rowsAfter(tracker.max)) for (const row of page) if (this.accept(row)) accepted++;
    return accepted;
  }

  private notified(payload: string): void {
    if (this.catchingUp) {
      this.held.push(payload);
      return;
    }
    const row = parseEventRow(payload);
    if (row === undefined) {
      this.options.log.warn({ payload: payload.slice(0, 200) }, 'EventPiper source: a notification on new_events is not an events row; ignored');
      return;
    }
    this.accept(row);
  }

  /** Notifications held during a catch-up, now that it is done (duplicates are dropped by the tracker). */
  private release(): void {
    const held = this.held;
    this.held = [];
    for (const payload of held) this.notified(payload);
  }

  /** Passes a row on unless already seen; true when it was new. */
  private accept(row: EventRow): boolean {
    if (!this.tracker!.accept(row.id)) return false;
    for (const listener of this.listeners) {
      try {
        listener(row);
      } catch (err) {
        this.options.log.error({ err }, 'EventPiper source: a row listener failed');
      }
    }
    return true;
  }
}

function parseRows(rows: ReadonlyArray<{ j: string }>): EventRow[] {
  const out: EventRow[] = [];
  for (const { j } of rows) {
    const row = parseEventRow(j);
    if (row !== undefined) out.push(row);
  }
  return out;
}
