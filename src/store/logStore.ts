import type { AppendResult, EventInput, StoredEvent } from '../core/event.js';
import { HeraldError } from '../core/errors.js';
import { IdMinter, ID_PREFIX_LENGTH } from '../core/ids.js';
import { assertStreamName } from '../core/names.js';
import { Batch, type BatchWrites } from './batch.js';
import { assertKvKeys, kvJson } from './kv.js';
import { metaToInfo, type StreamMeta } from './meta.js';
import { toRecord, type EventRecord } from './record.js';
import type { RecordSummary } from './recordCodec.js';
import type {
  AppendListener,
  AppendOptions,
  KvListOptions,
  KvWrite,
  ReadOptions,
  RetentionPolicy,
  Store,
  StreamInfo,
  StreamOptions,
} from './types.js';

export type { BatchWrites, EventWrite, RunWrite } from './batch.js';
export type { RecordSummary } from './recordCodec.js';

export interface LoadedState {
  metas: StreamMeta[];
  nextSid: number;
  trash: number[];
  /** The greatest id-run prefix stored, so new runs continue above it (core/ids.ts). */
  lastRunPrefix?: string;
}

export const DEFAULT_READ_LIMIT = 1000;

let lastNowMs = NaN;
let lastNowIso = '';
/** `new Date().toISOString()`, formatted once per millisecond rather than once per append. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastNowMs) {
    lastNowIso = new Date(ms).toISOString();
    lastNowMs = ms;
  }
  return lastNowIso;
}
/** Batches committing or flushing at once: enough to keep the disk busy, few enough to bound memory. */
const MAX_BATCHES_IN_FLIGHT = 3;
/** Retention and purge remove at most this many events per commit, so appends never wait long. */
const REMOVALS_PER_COMMIT = 5000;

const APPLIED = (): undefined => undefined;

interface PendingOp {
  /** Applies the operation to the batch; throws (before changing anything) to fail alone. */
  apply(batch: Batch): unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface LogStoreOptions {
  /** Retention for streams created without a policy of their own. */
  defaultRetention?: RetentionPolicy;
}

/**
 * The logic every store shares: validation, gap-free seq assignment, idempotency, group commit,
 * retention, wake-ups. A backend supplies only storage: load, a durable commit, and reads.
 *
 * Group commit: operations queue up and one batch carries all that arrived while earlier
 * batches were being written. Batches are pipelined (runBatch); a failed commit stops the store
 * (fail) instead of rolling back, since later batches may already build on it.
 */
export abstract class LogStore implements Store {
  abstract readonly kind: string;
  private readonly defaultRetention: RetentionPolicy;
  /** Stream metadata as of the last commit: what new batches build on. */
  protected metas = new Map<string, StreamMeta>();
  /** Stream metadata as of the last durable commit: all that readers may see. */
  private visible = new Map<string, StreamMeta>();
  private flushing: Promise<void> = Promise.resolve();
  private sidToName = new Map<number, string>();
  private nextSid = 1;
  private trash: number[] = [];
  private readonly minter = new IdMinter();
  private queue: PendingOp[] = [];
  private scheduled = false;
  /** Batches committed or committing but not yet durable, oldest first. */
  private inFlight: Batch[] = [];
  private failure: HeraldError | undefined;
  private listeners = new Set<AppendListener>();
  private opened = false;
  private closing = false;
  /** Set while the backend runs a task of its own between commits (pauseFor): batches and reads wait. */
  private paused: Promise<void> | undefined;
  /** Observers of each commit (metrics): batch size in events and duration in seconds. */
  onCommit?: (events: number, seconds: number) => void;

  constructor(options: LogStoreOptions = {}) {
    this.defaultRetention = options.defaultRetention ?? {};
  }

  protected abstract load(): Promise<LoadedState>;
  /** Commits one batch atomically; resolves once it is on disk (for a durable backend). */
  protected abstract commit(writes: BatchWrites): Promise<void>;
  protected abstract shutdown(): Promise<void>;
  /** Where an id is stored in committed state (possibly in a deleted stream). */
  protected abstract findId(id: string): { sid: number; seq: number } | undefined;
  /** Events of a stream with seq in [from, to], oldest first, without payload. */
  protected abstract summaries(sid: number, from: number, to: number, limit: number): RecordSummary[];
  protected abstract readRecords(sid: number, after: number, upTo: number, limit: number): EventRecordWithSeq[] | Promise<EventRecordWithSeq[]>;
  protected abstract readPosition(stream: string, consumer: string): number | undefined;
  protected abstract readKv(collection: string, key: string): unknown;
  /** Entries of a collection in key order (reverse: descending), already filtered by the options. */
  protected abstract listKv(collection: string, options: Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions): Array<{ key: string; value: unknown }>;

  get isOpen(): boolean {
    return this.opened && !this.closing && !this.failure;
  }

  /** Records that the data may hold a batch that landed after a failed one (see fail()). */
  protected markDamaged(): void {}

  async open(): Promise<void> {
    const state = await this.load();
    this.metas = new Map(state.metas.map((m) => [m.name, m]));
    this.visible = new Map(this.metas);
    this.sidToName = new Map(state.metas.map((m) => [m.sid, m.name]));
    this.nextSid = state.nextSid;
    this.trash = state.trash;
    if (state.lastRunPrefix !== undefined) this.minter.seed(state.lastRunPrefix);
    this.opened = true;
    if (this.trash.length > 0) void this.purgeTrash().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (!this.opened || this.closing) return;
    this.closing = true;
    while (this.queue.length > 0 || this.inFlight.length > 0 || this.scheduled || this.paused) {
      if (this.paused) await this.paused;
      else if (this.inFlight.length > 0) await this.flushing;
      else await new Promise((r) => setImmediate(r));
    }
    await this.shutdown();
    this.opened = false;
  }

  // ---- writes -------------------------------------------------------------------------------

  append(inputs: EventInput[], options: AppendOptions = {}): Promise<AppendResult[]> {
    let records: EventRecord[];
    try {
      this.assertWritable();
      const now = isoNow();
      records = inputs.map((input) => toRecord(input, now));
    } catch (err) {
      return Promise.reject(err);
    }
    const createStreams = options.createStreams ?? true;
    return this.enqueue((batch) => {
      let missing: Set<string> | undefined;
      let checked: string | undefined;
      for (const r of records) {
        if (r.stream === checked) continue; // batches are mostly one stream: one look-up
        checked = r.stream;
        if (!batch.get(r.stream)) (missing ??= new Set()).add(r.stream);
      }
      if (missing === undefined) return records.map((record) => this.appendOne(batch, record));
      if (!createStreams) {
        const [first] = missing;
        throw new HeraldError('stream_not_found', `stream ${JSON.stringify(first)} does not exist (creating streams on publish is off)`, { stream: first });
      }
      for (const name of missing) batch.create(name, records[0]!.time, this.defaultRetention);
      return records.map((record) => this.appendOne(batch, record));
    }) as Promise<AppendResult[]>;
  }

  private appendOne(batch: Batch, record: EventRecord): AppendResult {
    // Only producer-chosen ids can be stored already; an empty id is minted at the end of the
    // batch (Batch.mint), and a fresh id cannot be a duplicate.
    if (record.id !== '') {
      const earlier = batch.pendingId(record.id) ?? this.liveId(record.id);
      if (earlier) return { stream: earlier.stream, seq: earlier.seq, id: record.id, duplicate: true };
    }
    return batch.addEvent(batch.edit(record.stream), record);
  }

  /** The committed position of an id, unless its stream was deleted since. */
  private liveId(id: string): { stream: string; seq: number } | undefined {
    const found = this.findId(id);
    if (!found) return undefined;
    const stream = this.sidToName.get(found.sid);
    const meta = stream === undefined ? undefined : this.metas.get(stream);
    if (!meta || meta.sid !== found.sid || found.seq < meta.first) return undefined;
    return { stream: meta.name, seq: found.seq };
  }

  async createStream(name: string, options: StreamOptions = {}): Promise<StreamInfo> {
    assertStreamName(name);
    this.assertWritable();
    return (await this.enqueue((batch) => {
      if (batch.get(name)) throw new HeraldError('stream_exists', `stream ${JSON.stringify(name)} already exists`, { stream: name });
      return metaToInfo(batch.create(name, new Date().toISOString(), options.retention ?? this.defaultRetention));
    })) as StreamInfo;
  }

  async putStream(name: string, options: StreamOptions): Promise<{ info: StreamInfo; created: boolean }> {
    assertStreamName(name);
    this.assertWritable();
    return (await this.enqueue((batch) => {
      if (!batch.get(name)) return { info: metaToInfo(batch.create(name, new Date().toISOString(), options.retention ?? this.defaultRetention)), created: true };
      const meta = batch.edit(name);
      if (options.retention) meta.retention = { ...options.retention };
      return { info: metaToInfo(meta), created: false };
    })) as { info: StreamInfo; created: boolean };
  }

  async deleteStream(name: string): Promise<boolean> {
    this.assertWritable();
    const deleted = (await this.enqueue((batch) => {
      const meta = batch.get(name);
      if (!meta) return false;
      batch.remove(name);
      batch.writes.trashAdded.push(meta.sid);
      batch.writes.removedPositionsOf.push(name);
      return true;
    })) as boolean;
    if (deleted) void this.purgeTrash().catch(() => undefined);
    return deleted;
  }

  async setPosition(stream: string, consumer: string, seq: number): Promise<void> {
    this.assertWritable();
    if (!Number.isSafeInteger(seq) || seq < 0) throw new HeraldError('bad_request', `position must be a whole number >= 0, got ${seq}`);
    await this.enqueue((batch) => {
      if (!batch.get(stream)) throw new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
      batch.writes.positions.push({ stream, consumer, seq });
    });
  }

  async kvWrite(writes: KvWrite[]): Promise<void> {
    this.assertWritable();
    for (const w of writes) {
      if (typeof w.collection !== 'string' || w.collection === '' || typeof w.key !== 'string') {
        throw new HeraldError('bad_request', 'a key-value write needs a non-empty collection and a string key');
      }
    }
    // A copy, so a caller changing its object after the call cannot change what is stored.
    const copies = writes.map((w) => ({ collection: w.collection, key: w.key, value: w.value === undefined ? undefined : structuredClone(w.value) }));
    await this.enqueue((batch) => {
      batch.writes.kv.push(...copies);
    });
  }

  async kvWriteIf(expect: KvWrite[], writes: KvWrite[]): Promise<boolean> {
    this.assertWritable();
    assertKvKeys(expect);
    assertKvKeys(writes);
    const expected = expect.map((e) => ({ collection: e.collection, key: e.key, json: kvJson(e.value) }));
    const copies = writes.map((w) => ({ collection: w.collection, key: w.key, value: w.value === undefined ? undefined : structuredClone(w.value) }));
    // Checked while the batch is built, against every write queued before it: one process owns
    // this store, so that is atomic.
    return (await this.enqueue((batch) => {
      for (const e of expected) {
        if (kvJson(batch.kvValue(e.collection, e.key, () => this.readKv(e.collection, e.key))) !== e.json) return false;
      }
      batch.writes.kv.push(...copies);
      return true;
    })) as boolean;
  }

  async applyRetention(now: Date = new Date()): Promise<number> {
    let removed = 0;
    for (const name of [...this.metas.keys()]) {
      for (;;) {
        if (!this.isOpen) return removed;
        const n = (await this.enqueue((batch) => this.retainOnce(batch, name, now))) as number;
        removed += n;
        if (n < REMOVALS_PER_COMMIT) break;
      }
    }
    return removed;
  }

  /** Removes up to REMOVALS_PER_COMMIT events of one stream that its policy no longer keeps. */
  private retainOnce(batch: Batch, name: string, now: Date): number {
    const current = batch.get(name);
    if (!current) return 0;
    const policy = this.effectiveRetention(current.retention);
    if (policy.maxCount === undefined && policy.maxAgeMs === undefined) return 0;
    // Seqs up to `to` go by count; past it, only events older than the age cutoff.
    const to = policy.maxCount === undefined ? current.first - 1 : current.head - policy.maxCount;
    const ageCutoff = policy.maxAgeMs === undefined ? undefined : new Date(now.getTime() - policy.maxAgeMs).toISOString();
    const scanTo = ageCutoff === undefined ? to : current.head;
    const last = Math.min(scanTo, current.first + REMOVALS_PER_COMMIT - 1);
    // One more than the window: whether a removed event ends its id run depends on the next.
    const candidates = this.summaries(current.sid, current.first, last + 1, REMOVALS_PER_COMMIT + 1);
    // Removal is always from the front, so stop at the first event that is kept.
    let count = 0;
    for (const s of candidates) {
      if (s.seq !== current.first + count || s.seq > last) break;
      if (!(s.seq <= to || (ageCutoff !== undefined && s.time < ageCutoff))) break;
      count++;
    }
    if (count === 0) return 0;
    const meta = batch.edit(name);
    for (let i = 0; i < count; i++) {
      const s = candidates[i]!;
      meta.bytes -= s.bytes;
      if (!s.minted) batch.writes.removedIds.push(s.id);
      else if (!sameRun(s, candidates[i + 1])) batch.writes.removedRuns.push(s.id.slice(0, ID_PREFIX_LENGTH));
    }
    meta.first += count;
    batch.writes.trimmed.push({ sid: meta.sid, before: meta.first });
    return count;
  }

  /** A backend may impose limits of its own (the memory store is bounded). */
  protected effectiveRetention(policy: RetentionPolicy): RetentionPolicy {
    return policy;
  }

  /** Removes the events of deleted streams, a bounded number per commit. */
  private async purgeTrash(): Promise<void> {
    while (this.trash.length > 0 && this.isOpen) {
      await this.enqueue((batch) => {
        const sid = this.trash[0]!;
        const leftovers = this.summaries(sid, 0, Number.MAX_SAFE_INTEGER, REMOVALS_PER_COMMIT);
        let prefix = '';
        for (const s of leftovers) {
          if (s.minted) {
            const run = s.id.slice(0, ID_PREFIX_LENGTH);
            if (run !== prefix) batch.writes.removedRuns.push((prefix = run));
            continue;
          }
          // The id may have been stored again since (in a new stream) by a batch still being
          // committed: the index does not show that yet, and removing the id would undo it.
          if (batch.pendingId(s.id) !== undefined) continue;
          const owner = this.findId(s.id);
          if (owner && owner.sid === sid && owner.seq === s.seq) batch.writes.removedIds.push(s.id);
        }
        const done = leftovers.length < REMOVALS_PER_COMMIT;
        batch.writes.trimmed.push({ sid, before: done ? Number.MAX_SAFE_INTEGER : leftovers[leftovers.length - 1]!.seq + 1 });
        if (done) batch.writes.trashDone.push(sid);
      });
    }
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (!this.isOpen) throw new HeraldError('store_closed', 'the store is closed');
  }

  private enqueue(apply: (batch: Batch) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Runs `task` once no commit is in flight, holding new batches and reads until it is done: for
   * a backend that must reopen itself. A failed task fails the store as a failed commit does.
   */
  protected pauseFor(task: () => Promise<void>): void {
    if (this.paused !== undefined || !this.isOpen) return;
    this.paused = (async () => {
      // Never within the caller's turn: a batch being built there is committed first.
      await new Promise((r) => setImmediate(r));
      while (this.inFlight.length > 0) await this.flushing;
      await task();
    })()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.paused = undefined;
        this.schedule();
      });
  }

  private schedule(): void {
    if (this.scheduled || this.paused || this.queue.length === 0 || this.inFlight.length >= MAX_BATCHES_IN_FLIGHT) return;
    this.scheduled = true;
    setImmediate(() => this.runBatch());
  }

  /**
   * Builds one batch from every queued operation and hands it to the backend. Up to
   * MAX_BATCHES_IN_FLIGHT batches are committing or flushing at once, so the next batch is
   * prepared while the previous one is written. Acknowledgements follow commit order.
   */
  private runBatch(): void {
    this.scheduled = false;
    if (this.paused) return; // the queue waits; the pause reschedules it
    const ops = this.queue;
    this.queue = [];
    if (ops.length === 0) return;
    if (this.failure) {
      for (const op of ops) op.reject(this.failure);
      return;
    }
    const batch = new Batch(this.metas, this.nextSid, this.inFlight);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = ops.map((op) => {
      try {
        return { ok: true, value: op.apply(batch) };
      } catch (error) {
        return { ok: false, error };
      } finally {
        // The operation's inputs (events, records) die here rather than after the commit: on
        // the bulk path they would otherwise outlive young-generation GCs and pile up as old garbage.
        op.apply = APPLIED;
      }
    });
    batch.mint(this.minter);
    this.writeMetas(batch);
    const started = performance.now();
    const committed = this.commit(batch.writes);
    // The backend has taken (encoded or copied) the events: drop them, for the same reason.
    const eventCount = batch.writes.events.length;
    batch.writes.events = [];
    batch.writes.ids = [];
    // Later batches build on this one before it is committed; should it fail, the store stops
    // taking writes (see fail()), so nothing is ever numbered on top of a lost batch.
    this.adopt(batch);
    this.inFlight.push(batch);
    this.schedule();
    this.flushing = this.flushing.then(async () => {
      let error: unknown;
      try {
        await committed;
      } catch (err) {
        error = err;
      }
      this.inFlight.shift();
      if (error !== undefined) this.fail(error);
      if (this.failure) {
        for (const op of ops) op.reject(this.failure);
        return;
      }
      batch.fillMintedIds();
      this.reveal(batch);
      this.onCommit?.(eventCount, (performance.now() - started) / 1000);
      for (const name of batch.grown) {
        const head = this.visible.get(name)?.head ?? 0;
        for (const listener of this.listeners) listener(name, head);
      }
      ops.forEach((op, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) op.resolve(outcome.value);
        else op.reject(outcome.error);
      });
      this.schedule();
    });
  }

  /**
   * A commit or flush failed (a full or failing disk). Like PostgreSQL after a failed fsync,
   * the store stops taking writes rather than guess what landed: every queued and in-flight
   * operation is rejected, and a restart recovers to the last durable, gap-free state.
   */
  protected fail(err: unknown): void {
    if (this.failure) return;
    this.failure = new HeraldError('unavailable', `the store failed to write (${err instanceof Error ? err.message : String(err)}); writes are refused until Herald restarts`);
    this.markDamaged();
    const queued = this.queue;
    this.queue = [];
    for (const op of queued) op.reject(this.failure);
  }

  /** Makes a durable batch visible to readers. */
  private reveal(batch: Batch): void {
    for (const [name, meta] of batch.metas) {
      if (meta) this.visible.set(name, meta);
      else this.visible.delete(name);
    }
  }

  private writeMetas(batch: Batch): void {
    for (const [name, meta] of batch.metas) {
      if (meta) batch.writes.metas.push(meta);
      else if (this.metas.has(name)) batch.writes.removedMetas.push(name);
    }
  }

  /** Makes a committed batch the current state. */
  private adopt(batch: Batch): void {
    for (const [name, meta] of batch.metas) {
      const old = this.metas.get(name);
      if (old && (!meta || meta.sid !== old.sid)) this.sidToName.delete(old.sid);
      if (meta) {
        this.metas.set(name, meta);
        this.sidToName.set(meta.sid, name);
      } else {
        this.metas.delete(name);
      }
    }
    this.nextSid = batch.writes.nextSid;
    this.trash = this.trash.filter((sid) => !batch.writes.trashDone.includes(sid)).concat(batch.writes.trashAdded);
  }

  // ---- reads --------------------------------------------------------------------------------

  async read(stream: string, options: ReadOptions = {}): Promise<StoredEvent[]> {
    this.assertOpenForRead();
    if (this.paused) await this.paused;
    const meta = this.visible.get(stream);
    if (!meta) throw new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
    const after = Math.max(options.after ?? 0, meta.first - 1);
    const limit = options.limit ?? DEFAULT_READ_LIMIT;
    if (after >= meta.head || limit <= 0) return [];
    const rows = await this.readRecords(meta.sid, after, meta.head, limit);
    return rows.map(({ seq, record }) => ({ ...record, stream, seq }));
  }

  async lookupId(id: string): Promise<{ stream: string; seq: number } | undefined> {
    this.assertOpenForRead();
    if (this.paused) await this.paused;
    const found = this.liveId(id);
    return found && found.seq <= this.head(found.stream) ? found : undefined;
  }

  async getStream(name: string): Promise<StreamInfo | undefined> {
    const meta = this.visible.get(name);
    return meta ? metaToInfo(meta) : undefined;
  }

  async listStreams(): Promise<StreamInfo[]> {
    return [...this.visible.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(metaToInfo);
  }

  head(stream: string): number {
    return this.visible.get(stream)?.head ?? 0;
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async getPosition(stream: string, consumer: string): Promise<number | undefined> {
    this.assertOpenForRead();
    if (this.paused) await this.paused;
    return this.readPosition(stream, consumer);
  }

  async kvGet<T = unknown>(collection: string, key: string): Promise<T | undefined> {
    this.assertOpenForRead();
    if (this.paused) await this.paused;
    const value = this.readKv(collection, key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  async kvList<T = unknown>(collection: string, options: KvListOptions = {}): Promise<Array<{ key: string; value: T }>> {
    this.assertOpenForRead();
    if (this.paused) await this.paused;
    const entries = this.listKv(collection, { ...options, limit: options.limit ?? DEFAULT_READ_LIMIT, reverse: options.reverse ?? false });
    return entries.map(({ key, value }) => ({ key, value: structuredClone(value) as T }));
  }

  // One process owns a memory or LMDB store (the directory lock), so its leases live in memory.
  private readonly leases = new Map<string, { holder: string; expires: number }>();

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    this.assertOpenForRead();
    const now = Date.now();
    const lease = this.leases.get(name);
    if (lease && lease.holder !== holder && lease.expires > now) return false;
    this.leases.set(name, { holder, expires: now + ttlMs });
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  private assertOpenForRead(): void {
    if (!this.opened) throw new HeraldError('store_closed', 'the store is closed');
  }
}

/** Whether `next` is the event after `s` in the same run of minted ids. */
function sameRun(s: RecordSummary, next: RecordSummary | undefined): boolean {
  return next !== undefined && next.minted && next.seq === s.seq + 1 && next.id.startsWith(s.id.slice(0, ID_PREFIX_LENGTH));
}

export interface EventRecordWithSeq {
  seq: number;
  record: EventRecord;
}
