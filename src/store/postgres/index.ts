import { randomUUID } from 'node:crypto';
import type { AppendResult, EventInput, StoredEvent } from '../../core/event.js';
import { HeraldError } from '../../core/errors.js';
import { assertStreamName } from '../../core/names.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { assertKvKeys } from '../kv.js';
import { toRecord, type EventRecord } from '../record.js';
import type {
  AppendListener, AppendOptions, KvListOptions, KvWrite, ReadOptions, RetentionPolicy, Store, StreamInfo, StreamOptions,
} from '../types.js';
import { AdapterState } from './adapterState.js';
import { Appender, type GrownStream } from './appender.js';
import { Connections, redactUrl, type ClientSettings } from './clients.js';
import { isConnectionError, isOwnDisconnect, isRetryable, unavailable } from './errors.js';
import { parseHeadMessage, StreamHeads } from './heads.js';
import { migrate, SchemaNames } from './schema.js';
import { REMOVALS_PER_COMMIT, StreamTables } from './streams.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` */
  url: string;
  /** PostgreSQL schema holding Herald's tables (created when absent; default "herald"). */
  schema?: string;
  /** Pool size for reads and small writes (default 10); each node also holds a writer and a listener connection. */
  maxConnections?: number;
  /** Time allowed to open a connection, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** While the database is unreachable, how often to try again, in ms (default 500). */
  reconnectIntervalMs?: number;
  /** The name this node's connections show in pg_stat_activity (default "herald"). */
  applicationName?: string;
  /** Retention for streams created without a policy of their own. */
  defaultRetention?: RetentionPolicy;
  logger?: Logger;
}

const DEFAULT_READ_LIMIT = 1000;
/** The lease that lets one node at a time apply retention (every node's hub runs the timer). */
const RETENTION_LEASE = 'herald.retention';
const RETENTION_LEASE_MS = 60_000;
/** Attempts for a statement the server aborted before it ran (or an idempotent read). */
const ATTEMPTS = 3;

/**
 * The store for several Herald nodes sharing one PostgreSQL database (DESIGN.md §3,
 * docs/scaling.md). Nothing that decides order lives in a node: seqs are assigned in the
 * database under the stream's row lock, so nodes never hand out the same seq and a reader never
 * sees seq n+1 before n. Each node keeps only a cache of stream heads, kept right by its own
 * commits and by NOTIFY messages from every node (never payloads: a stream name and its head).
 *
 * When the database cannot be reached the store turns unready (`isOpen` false, so /ready answers
 * 503), refuses writes at once with `unavailable` (503), and probes until the database is back;
 * then it re-reads every head (notifications sent meanwhile were lost) and takes writes again.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** Several nodes write one database. */
  readonly shared = true;
  onCommit?: (events: number, seconds: number) => void;

  private readonly names: SchemaNames;
  private readonly settings: ClientSettings;
  private readonly log: Logger;
  private readonly defaultRetention: RetentionPolicy;
  private readonly heads = new StreamHeads();
  private readonly listeners = new Set<AppendListener>();
  private readonly clients: Connections;
  private readonly appender: Appender;
  private readonly tables: StreamTables;
  private readonly state: AdapterState;
  private opened = false;
  private closing = false;
  private reachable = false;
  private probe: NodeJS.Timeout | undefined;
  /** How many times the LISTEN connection closed: a LISTEN is only good if none closed since. */
  private listenerCloses = 0;
  private purging: Promise<void> | undefined;
  /** This store's name as a lease holder: unique per process and open. */
  private readonly holder = `${process.pid}-${randomUUID()}`;

  constructor(options: PostgresStoreOptions) {
    this.names = new SchemaNames(options.schema ?? 'herald');
    this.log = (options.logger ?? silentLogger()).child({ component: 'store', store: 'postgres' });
    this.settings = {
      url: options.url,
      maxConnections: options.maxConnections ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      applicationName: options.applicationName ?? 'herald',
      reconnectIntervalMs: options.reconnectIntervalMs ?? 500,
      logger: this.log,
    };
    this.defaultRetention = options.defaultRetention ?? {};
    this.clients = new Connections(this.settings, (payload) => this.onNotify(payload), () => {
      this.listenerCloses++;
      this.lost(new Error('the LISTEN connection closed'));
    });
    this.tables = new StreamTables(this.clients, this.names);
    this.state = new AdapterState(this.clients, this.names);
    this.appender = new Appender(this.clients, this.names, JSON.stringify(this.defaultRetention), {
      committed: (grown, events, seconds) => this.committed(grown, events, seconds),
      connectionLost: (err) => this.lost(err),
    });
  }

  /** True while open and the database is reachable. */
  get isOpen(): boolean {
    return this.opened && !this.closing && this.reachable;
  }

  async open(): Promise<void> {
    await this.clients.renew();
    const closes = this.listenerCloses;
    try {
      const { from, to } = await migrate(this.clients.pool, this.names);
      if (from !== to) this.log.info({ schema: this.names.schema, from, to }, `migrated the database schema "${this.names.schema}" from version ${from} to ${to}`);
      await this.clients.listener.unsafe(`LISTEN "${this.names.channel}"`);
      // The writer connects now, not on the first publish: a connection (a server process
      // forked, authenticated) costs milliseconds that the first acknowledgements would wait.
      await this.clients.writer.unsafe('SELECT 1');
      this.heads.sync(await this.tables.heads());
    } catch (err) {
      await this.clients.end(0);
      throw new HeraldError('unavailable', `cannot open the postgres store at ${redactUrl(this.settings.url)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.opened = true;
    this.reachable = true;
    if (this.listenerCloses !== closes) this.lost(new Error('the LISTEN connection closed while opening'));
    this.purge();
  }

  async close(): Promise<void> {
    if (!this.opened || this.closing) return;
    this.closing = true;
    clearTimeout(this.probe);
    await this.appender.drain();
    await this.purging;
    if (this.reachable) await this.state.releaseLease(RETENTION_LEASE, this.holder).catch(() => undefined);
    await this.clients.end(5);
    this.opened = false;
  }

  // ---- connectivity -------------------------------------------------------------------------

  /** The database was lost: turn unready and probe until it is back. */
  private lost(err: unknown): void {
    if (!this.opened || this.closing || isOwnDisconnect(err)) return;
    if (this.reachable) {
      this.reachable = false;
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'the database is unreachable: writes are refused until it is back');
    }
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probe !== undefined || this.closing) return;
    this.probe = setTimeout(() => void this.reconnect(), this.settings.reconnectIntervalMs);
    this.probe.unref();
  }

  /**
   * One attempt to get back, on fresh connections: LISTEN, check the pool and the writer, re-read
   * every head (notifications sent meanwhile were lost).
   */
  private async reconnect(): Promise<void> {
    try {
      await this.clients.renew();
      const closes = this.listenerCloses;
      await this.clients.listener.unsafe(`LISTEN "${this.names.channel}"`);
      await this.clients.pool.unsafe('SELECT 1');
      await this.clients.writer.unsafe('SELECT 1');
      const grown = this.heads.sync(await this.tables.heads());
      if (this.listenerCloses !== closes) throw new Error('the LISTEN connection closed again');
      this.probe = undefined;
      if (this.closing) return;
      this.reachable = true;
      this.log.info('the database is reachable again: writes are accepted');
      for (const name of grown) this.emit(name);
      this.purge();
    } catch {
      this.probe = undefined;
      this.scheduleProbe();
    }
  }

  /**
   * Runs a statement; a server-aborted one (or, when `idempotent`, one whose connection broke)
   * is tried again. Errors come out as `unavailable`, and a lost connection turns the store
   * unready.
   */
  private async retrying<T>(statement: () => Promise<T>, idempotent: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await statement();
      } catch (err) {
        if (err instanceof HeraldError) throw err;
        const again = isRetryable(err) || (idempotent && isConnectionError(err));
        if (again && attempt < ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 10 * attempt));
          continue;
        }
        if (isConnectionError(err)) this.lost(err);
        throw unavailable(err);
      }
    }
  }

  private assertWritable(): void {
    if (!this.opened || this.closing) throw new HeraldError('store_closed', 'the store is closed');
    if (!this.reachable) throw new HeraldError('unavailable', 'the database is unreachable; writes are refused until it is back');
  }

  private assertOpen(): void {
    if (!this.opened) throw new HeraldError('store_closed', 'the store is closed');
  }

  // ---- heads and wake-ups -------------------------------------------------------------------

  private committed(grown: GrownStream[], events: number, seconds: number): void {
    for (const g of grown) if (this.heads.advance(g.name, g.sid, g.head)) this.emit(g.name);
    this.onCommit?.(events, seconds);
  }

  private onNotify(payload: string): void {
    const message = parseHeadMessage(payload);
    if (!message) return;
    if (message.kind === 'delete') this.heads.remove(message.name, message.sid);
    else if (this.heads.advance(message.name, message.sid, message.head)) this.emit(message.name);
  }

  private emit(stream: string): void {
    const head = this.heads.head(stream);
    for (const listener of this.listeners) listener(stream, head);
  }

  head(stream: string): number {
    return this.heads.head(stream);
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- events -------------------------------------------------------------------------------

  append(inputs: EventInput[], options: AppendOptions = {}): Promise<AppendResult[]> {
    let records: EventRecord[];
    try {
      this.assertWritable();
      const now = new Date().toISOString();
      records = inputs.map((input) => toRecord(input, now));
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve([]);
    return this.appender.append(records, options.createStreams ?? true);
  }

  async read(stream: string, options: ReadOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const events = await this.retrying(() => this.tables.read(stream, options.after ?? 0, options.limit ?? DEFAULT_READ_LIMIT), true);
    if (events === undefined) throw new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
    return events;
  }

  async lookupId(id: string): Promise<{ stream: string; seq: number } | undefined> {
    this.assertOpen();
    return this.retrying(() => this.tables.lookupId(id), true);
  }

  // ---- streams ------------------------------------------------------------------------------

  async createStream(name: string, options: StreamOptions = {}): Promise<StreamInfo> {
    assertStreamName(name);
    this.assertWritable();
    const info = await this.retrying(() => this.tables.create(name, options.retention ?? this.defaultRetention), false);
    if (!info) throw new HeraldError('stream_exists', `stream ${JSON.stringify(name)} already exists`, { stream: name });
    return info;
  }

  async putStream(name: string, options: StreamOptions): Promise<{ info: StreamInfo; created: boolean }> {
    assertStreamName(name);
    this.assertWritable();
    return this.retrying(() => this.tables.put(name, options.retention, this.defaultRetention), false);
  }

  async getStream(name: string): Promise<StreamInfo | undefined> {
    this.assertOpen();
    return this.retrying(() => this.tables.get(name), true);
  }

  async listStreams(): Promise<StreamInfo[]> {
    this.assertOpen();
    return this.retrying(() => this.tables.list(), true);
  }

  async deleteStream(name: string): Promise<boolean> {
    this.assertWritable();
    const sid = await this.retrying(() => this.tables.delete(name), false);
    if (sid === undefined) return false;
    this.heads.remove(name, sid);
    this.purge();
    return true;
  }

  /** Purges the events of deleted streams in the background, a bounded number per statement. */
  private purge(): void {
    if (this.purging) return;
    this.purging = (async () => {
      try {
        for (let sids = await this.tables.trash(); sids.length > 0 && this.isOpen; sids = await this.tables.trash()) {
          for (const sid of sids) while (this.isOpen && (await this.tables.purgeStep(sid)) >= REMOVALS_PER_COMMIT);
        }
      } catch (err) {
        if (isConnectionError(err)) this.lost(err);
        else this.log.error({ err }, 'purging the events of deleted streams failed');
      } finally {
        this.purging = undefined;
      }
    })();
  }

  /**
   * Applies retention, on one node at a time: the node holding the retention lease (renewed on
   * each run, taken over by another node once it lapses) does the work; the others return 0.
   */
  async applyRetention(now: Date = new Date()): Promise<number> {
    if (!this.isOpen) return 0;
    if (!(await this.retrying(() => this.state.acquireLease(RETENTION_LEASE, this.holder, RETENTION_LEASE_MS), true))) return 0;
    let removed = 0;
    for (const { name, retention } of await this.retrying(() => this.tables.retained(), true)) {
      if (retention.maxCount === undefined && retention.maxAgeMs === undefined) continue;
      for (;;) {
        if (!this.isOpen) return removed;
        const n = await this.retrying(() => this.tables.retainStep(name, retention, now), false);
        removed += n;
        if (n < REMOVALS_PER_COMMIT) break;
      }
    }
    return removed;
  }

  // ---- adapters' state ----------------------------------------------------------------------

  async getPosition(stream: string, consumer: string): Promise<number | undefined> {
    this.assertOpen();
    return this.retrying(() => this.state.getPosition(stream, consumer), true);
  }

  async setPosition(stream: string, consumer: string, seq: number): Promise<void> {
    this.assertWritable();
    if (!Number.isSafeInteger(seq) || seq < 0) throw new HeraldError('bad_request', `position must be a whole number >= 0, got ${seq}`);
    if (!(await this.retrying(() => this.state.setPosition(stream, consumer, seq), true))) {
      throw new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
    }
  }

  async kvWrite(writes: KvWrite[]): Promise<void> {
    this.assertWritable();
    assertKvKeys(writes);
    await this.retrying(() => this.state.kvWrite(writes), true);
  }

  async kvWriteIf(expect: KvWrite[], writes: KvWrite[]): Promise<boolean> {
    this.assertWritable();
    assertKvKeys(expect);
    assertKvKeys(writes);
    // Not tried again after a broken connection: it may have committed, and a second try would
    // then answer false for a write that happened.
    return this.retrying(() => this.state.kvWriteIf(expect, writes), false);
  }

  async kvGet<T = unknown>(collection: string, key: string): Promise<T | undefined> {
    this.assertOpen();
    return (await this.retrying(() => this.state.kvGet(collection, key), true)) as T | undefined;
  }

  async kvList<T = unknown>(collection: string, options: KvListOptions = {}): Promise<Array<{ key: string; value: T }>> {
    this.assertOpen();
    return (await this.retrying(() => this.state.kvList(collection, options), true)) as Array<{ key: string; value: T }>;
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    this.assertWritable();
    return this.retrying(() => this.state.acquireLease(name, holder, ttlMs), true);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (!this.isOpen) return;
    await this.retrying(() => this.state.releaseLease(name, holder), true);
  }
}
