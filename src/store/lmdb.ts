import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ID_PREFIX_LENGTH, locateInRun } from '../core/ids.js';
import type { EventWrite } from './batch.js';
import { LogStore, type LogStoreOptions, type BatchWrites, type EventRecordWithSeq, type LoadedState, type RecordSummary } from './logStore.js';
import type { StreamMeta } from './meta.js';
import type { KvListOptions } from './types.js';
import { DirLock } from './dirLock.js';
import { LoggedWrites } from './loggedWrites.js';
import { CHUNK_BYTES, chunkEvents, countOf, decodeValue, summarizeValue, type EventChunk } from './recordCodec.js';
import { WriteAheadLog } from './wal.js';
import { decodeCommit, encodeCommit, type LoggedCommit } from './walBatch.js';

export interface LmdbStoreOptions extends LogStoreOptions {
  /** Directory of the database (created when absent). */
  path: string;
  /** Largest size the memory map may grow to, in bytes (default 64 GiB; only what is used costs disk). */
  mapSize?: number;
  /**
   * After reading this many bytes of events, reopen the environment between two commits, which
   * unmaps the pages read (default 64 MiB; 0: never). See `remapped`.
   */
  unmapAfterReadBytes?: number;
  /**
   * A commit whose events total at most this many bytes is written and flushed on the main
   * thread, when no other commit is in flight (default 16 KiB; 0: never). See `commitWrites`.
   */
  inlineCommitBytes?: number;
  /**
   * Make inline commits durable through a write-ahead log (one flush) and move them into LMDB
   * every `walApplyMs` (default true). See `logCommit`.
   */
  wal?: boolean;
  /** How long logged commits wait before LMDB takes them (default 100 ms). */
  walApplyMs?: number;
  /**
   * Size of the log file (default 8 MiB). It holds what is logged between two applies; when it
   * is full, LMDB takes the logged commits at once.
   */
  walBytes?: number;
}

const DEFAULT_UNMAP_AFTER_READ_BYTES = 64 * 1024 ** 2;
const DEFAULT_INLINE_COMMIT_BYTES = 16 * 1024;
const DEFAULT_WAL_APPLY_MS = 100;
const DEFAULT_WAL_BYTES = 8 * 1024 ** 2;
/** Where LMDB notes the seq of the last log record it holds. */
const WAL_APPLIED = 'walApplied';

/** Payload bytes of a batch's events: what its commit mostly writes. */
function eventBytes(events: EventWrite[]): number {
  let bytes = 0;
  for (const e of events) bytes += e.record.data.length;
  return bytes;
}

/**
 * Chunk buffers kept for reuse: enough for the commits in flight under bulk load (a chunk's
 * buffer is busy until its commit is done). Fresh 64 KiB buffers per chunk were the largest
 * source of garbage memory after a bulk ingest.
 */
const CHUNK_POOL = 64;

type EventKey = [number, number]; // [stream sid, seq of the value's first event]
/** An id run (core/ids.ts): [sid, seq of its first event, counter of its first id, count]. */
type RunValue = [number, number, number, number];

/**
 * The embedded durable store on LMDB (the default). One environment, seven sub-databases:
 * events by [sid, first seq] (a chunk of consecutive events per value, recordCodec.ts), producer
 * ids → [sid, seq], minted id runs by prefix → where they start, stream metadata, consumer
 * positions, system keys, and the adapters' key-value collections by [collection, key].
 *
 * Each group commit is durable before it completes: a small one as a record of the write-ahead
 * log (LMDB takes the logged commits a little later, and reads see them meanwhile), a big one as
 * an LMDB write transaction on lmdb-js's write thread (see commitWrites). LogStore acknowledges
 * appends (and shows them to readers) only then.
 */
export class LmdbStore extends LogStore {
  readonly kind = 'lmdb';
  private env!: RootDatabase;
  private lock: DirLock | undefined;
  private events!: Database<Buffer, EventKey>;
  private ids!: Database<[number, number], string>;
  private runs!: Database<RunValue, string>;
  private streams!: Database<StreamMeta, string>;
  private positions!: Database<number, [string, string]>;
  private sys!: Database<unknown, string | [string, number]>;
  private kv!: Database<unknown, [string, string]>;
  private readonly chunkPool: Buffer[] = [];
  /** Chunk buffers handed out while the current commit is being written. */
  private lent: Buffer[] | undefined;
  /** Event bytes read through the map since it was opened. */
  private readBytes = 0;
  /**
   * Times the environment was reopened to unmap what reads had mapped. LMDB reads through a
   * memory map, and every page read stays mapped, counted in the process's RSS, until the
   * kernel needs the memory: lanes and tails replaying a large stream would otherwise show an
   * RSS as large as the data they read, though it is only page cache.
   */
  remapped = 0;
  /** Commits written on the main thread (see commitWrites). */
  inlineCommits = 0;
  /** Commits on lmdb-js's write thread not yet done. */
  private threadCommits = 0;
  private wal: WriteAheadLog | undefined;
  /** Commits the log holds and LMDB does not yet; reads look here first. */
  private readonly logged = new LoggedWrites();
  private lastLogged = 0;
  private applyTimer: NodeJS.Timeout | undefined;
  /** Commits made durable by the write-ahead log, and the times LMDB took logged commits. */
  loggedCommits = 0;
  walApplies = 0;

  constructor(private readonly options: LmdbStoreOptions) {
    super(options);
  }

  /** Where the data lives, for logs and `herald config`. */
  get path(): string {
    return this.options.path;
  }

  protected async load(): Promise<LoadedState> {
    this.lock = DirLock.acquire(this.options.path);
    this.openEnv();
    this.recoverLog();
    return this.loadState();
  }

  private get walPath(): string {
    return join(this.options.path, 'wal');
  }

  /**
   * Puts the commits the log holds and LMDB does not (those acknowledged before a crash) into
   * LMDB, in one synced transaction. A log is read even when `wal` is now off.
   */
  private recoverLog(): void {
    const enabled = this.options.wal ?? true;
    if (!enabled && !existsSync(this.walPath)) return;
    const wal = WriteAheadLog.open(this.walPath, this.options.walBytes ?? DEFAULT_WAL_BYTES);
    const applied = (this.sys.get(WAL_APPLIED) as number | undefined) ?? 0;
    const records = wal.recover(applied);
    if (records.length > 0) this.putLogged(records.map(({ payload }) => decodeCommit(payload)), records[records.length - 1]!.seq);
    if (enabled) this.wal = wal;
    else wal.close();
  }

  private openEnv(): void {
    this.env = open({
      path: this.options.path,
      mapSize: this.options.mapSize ?? 64 * 1024 ** 3,
      // Each commit syncs before it completes (docs/decisions.md: lmdb's overlapping sync,
      // measured, gained nothing here).
      overlappingSync: false,
      // lmdb-js takes a path with an "extension" (`/var/lib/herald.d`, `/tmp/tmp.x1`) for a file
      // name: the path is always the directory here.
      noSubdir: false,
      maxDbs: 8,
    });
    this.events = this.env.openDB<Buffer, EventKey>({ name: 'events', encoding: 'binary' });
    this.ids = this.env.openDB<[number, number], string>({ name: 'ids' });
    this.runs = this.env.openDB<RunValue, string>({ name: 'runs' });
    this.streams = this.env.openDB<StreamMeta, string>({ name: 'streams' });
    this.positions = this.env.openDB<number, [string, string]>({ name: 'positions' });
    this.sys = this.env.openDB<unknown, string | [string, number]>({ name: 'sys' });
    this.kv = this.env.openDB<unknown, [string, string]>({ name: 'kv' });
    this.readBytes = 0;
  }

  /** Closes and opens the environment again (no commit in flight: see pauseFor), dropping its map. */
  private async remap(): Promise<void> {
    this.applyLogged();
    await this.env.close();
    this.openEnv();
    this.remapped++;
  }

  private async loadState(): Promise<LoadedState> {
    const metas = [...this.streams.getRange()].map(({ value }) => value);
    if (existsSync(this.damageMarker)) {
      await this.repair(metas);
      rmSync(this.damageMarker);
    }
    const trash = [...this.sys.getKeys({ start: ['trash', 0], end: ['trash', Number.MAX_SAFE_INTEGER] })].map((k) => (k as [string, number])[1]);
    const nextSid = (this.sys.get('nextSid') as number | undefined) ?? 1;
    let lastRunPrefix: string | undefined;
    for (const key of this.runs.getKeys({ reverse: true, limit: 1 })) lastRunPrefix = key;
    return { metas, nextSid, trash, lastRunPrefix };
  }

  private get damageMarker(): string {
    return join(this.options.path, 'NEEDS-REPAIR');
  }

  protected override markDamaged(): void {
    try {
      writeFileSync(this.damageMarker, `a commit failed at ${new Date().toISOString()}\n`);
    } catch {
      // The disk is failing; the next open will then trust the data as LMDB left it.
    }
  }

  /**
   * After a failed commit, a later batch may have landed after the lost one, leaving a hole.
   * Keep each stream up to its first hole; drop what follows (it was never acknowledged, since
   * acknowledgements stop at the first failure) with its ids, and recount the bytes.
   */
  private async repair(metas: StreamMeta[]): Promise<void> {
    await this.env.transaction(() => {
      for (const meta of metas) {
        let expected = meta.first;
        let bytes = 0;
        let head = meta.first - 1;
        let hole = false;
        for (const { firstSeq, value } of this.values(meta.sid, meta.first, Number.MAX_SAFE_INTEGER)) {
          const summaries = summarizeValue(value, firstSeq);
          const lastSeq = firstSeq + summaries.length - 1;
          if (!hole && firstSeq <= expected && lastSeq >= expected) {
            for (const s of summaries) if (s.seq >= meta.first) bytes += s.bytes;
            head = lastSeq;
            expected = lastSeq + 1;
            continue;
          }
          hole = true;
          this.events.removeSync([meta.sid, firstSeq]);
          for (const s of summaries) {
            if (s.minted) {
              this.runs.removeSync(s.id.slice(0, ID_PREFIX_LENGTH));
              continue;
            }
            const owner = this.ids.get(s.id);
            if (owner && owner[0] === meta.sid && owner[1] === s.seq) this.ids.removeSync(s.id);
          }
        }
        meta.head = Math.max(head, meta.first - 1);
        meta.bytes = bytes;
        this.streams.putSync(meta.name, meta);
      }
    });
  }

  protected async shutdown(): Promise<void> {
    clearTimeout(this.applyTimer);
    try {
      this.applyLogged();
    } catch {
      // The log keeps the commits LMDB could not take (and the store has failed or fails now):
      // the next open puts them into LMDB.
    }
    await this.env.close();
    this.wal?.close();
    this.lock?.release();
  }

  protected commit(w: BatchWrites): Promise<void> {
    const lent: Buffer[] = [];
    this.lent = lent;
    const committed = this.commitWrites(w);
    this.lent = undefined;
    if (lent.length === 0) return committed;
    // lmdb-js writes a value from the caller's memory: chunk buffers go back to the pool only
    // once their commit is done (and are dropped if it failed).
    return committed.then(() => {
      for (const buf of lent) if (this.chunkPool.length < CHUNK_POOL) this.chunkPool.push(buf);
    });
  }

  /** A buffer for a chunk of `size` ≤ CHUNK_BYTES bytes, from the pool when one is free. */
  private readonly allocChunk = (size: number): Buffer => {
    const buf = this.chunkPool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.lent?.push(buf);
    return buf.subarray(0, size);
  };

  /**
   * One commit, flushed to disk before the promise resolves. A small batch with no other commit
   * in flight is made durable on the main thread, by the write-ahead log (or, without it, as an
   * LMDB transaction): its cost is nearly all the wait for the disk, and the hand-offs to and
   * from lmdb-js's write thread added more CPU and latency than they saved (docs/store.md,
   * "Where a commit runs"). A big one goes to that thread, so the main thread meanwhile parses
   * what comes next.
   */
  private commitWrites(w: BatchWrites): Promise<void> {
    const inlineLimit = this.options.inlineCommitBytes ?? DEFAULT_INLINE_COMMIT_BYTES;
    try {
      if (inlineLimit > 0 && this.threadCommits === 0 && eventBytes(w.events) <= inlineLimit) {
        if (!this.wal || !this.logCommit(w)) this.env.transactionSync(() => this.write(w, chunkEvents(w.events, this.allocChunk)));
        this.inlineCommits++;
        return Promise.resolve();
      }
      // LMDB takes the logged commits first: commits land in order.
      this.applyLogged();
      const done = this.write(w, chunkEvents(w.events, this.allocChunk));
      this.threadCommits++;
      return done.finally(() => this.threadCommits--);
    } catch (err) {
      // A write refused before it reached the disk (a closed environment) fails the commit too.
      return Promise.reject(err);
    }
  }

  /**
   * Makes a commit durable with one record in the write-ahead log, which is one flush where an
   * LMDB commit takes two (its pages, then its meta page), and keeps it for reads until LMDB
   * takes it, with the others logged meanwhile, every `walApplyMs`. False when the commit is
   * too big for the log: LMDB then holds every logged commit, and the caller commits it there.
   */
  private logCommit(w: BatchWrites): boolean {
    // The events are encoded once, as the values LMDB will store; they stay in memory until then
    // as one buffer per stream, not one object per event.
    const { events, ...rest } = w;
    const commit: LoggedCommit = { ...rest, chunks: chunkEvents(events) };
    const payload = encodeCommit(commit);
    const wal = this.wal!;
    if (!wal.fits(payload.length)) this.applyLogged();
    if (!wal.fits(payload.length)) return false; // bigger than the whole log
    this.lastLogged = wal.append(payload);
    this.logged.add(commit);
    this.loggedCommits++;
    this.applyTimer ??= setTimeout(this.applyLoggedLater, this.options.walApplyMs ?? DEFAULT_WAL_APPLY_MS).unref();
    return true;
  }

  private readonly applyLoggedLater = (): void => {
    this.applyTimer = undefined;
    try {
      this.applyLogged();
    } catch (err) {
      // The log still holds the commits: a restart puts them into LMDB.
      this.fail(err);
    }
  };

  /**
   * Moves the logged commits into LMDB in one synced transaction on the main thread (a few per
   * `walApplyMs`, so the two flushes are shared by all of them), then starts the log over.
   */
  private applyLogged(): void {
    if (this.logged.size === 0) return;
    this.putLogged(this.logged.commits, this.lastLogged);
    this.logged.clear();
    this.wal!.rewind();
    this.walApplies++;
  }

  /** Puts logged commits into LMDB, with the seq of the last one's record, in one synced transaction. */
  private putLogged(commits: LoggedCommit[], lastSeq: number): void {
    this.env.transactionSync(() => {
      for (const commit of commits) void this.write(commit, commit.chunks);
      void this.sys.put(WAL_APPLIED, lastSeq);
    });
  }

  /** `w`'s writes, its events given as the values to store. */
  private write(w: Omit<BatchWrites, 'events'>, chunks: EventChunk[]): Promise<void> {
    // Writes issued in one synchronous run share one transaction: inside transactionSync, that
    // one; otherwise lmdb-js batches them per event turn and executes them on its write thread,
    // and the promise of the last one resolves when that transaction is committed and synced.
    for (const { sid, before } of w.trimmed) this.trim(sid, before);
    for (const id of w.removedIds) this.ids.remove(id);
    for (const prefix of w.removedRuns) this.runs.remove(prefix);
    for (const { sid, firstSeq, value } of chunks) this.events.put([sid, firstSeq], value);
    for (const { id, sid, seq } of w.ids) this.ids.put(id, [sid, seq]);
    for (const { prefix, lo, count, sid, firstSeq } of w.runs) this.runs.put(prefix, [sid, firstSeq, lo, count]);
    for (const name of w.removedMetas) this.streams.remove(name);
    for (const meta of w.metas) this.streams.put(meta.name, meta);
    for (const name of w.removedPositionsOf) {
      for (const key of this.positions.getKeys({ start: [name, ''], end: [name, '\uffff'] })) this.positions.remove(key);
    }
    for (const { stream, consumer, seq } of w.positions) this.positions.put([stream, consumer], seq);
    for (const { collection, key, value } of w.kv) {
      if (value === undefined) this.kv.remove([collection, key]);
      else this.kv.put([collection, key], value);
    }
    for (const sid of w.trashAdded) this.sys.put(['trash', sid], true);
    for (const sid of w.trashDone) this.sys.remove(['trash', sid]);
    return this.sys.put('nextSid', w.nextSid).then(() => undefined);
  }

  /** Removes the values of `sid` whose every event has a seq below `before`. */
  private trim(sid: number, before: number): void {
    const keys = [...this.events.getKeys({ start: [sid, 0], end: [sid, before] })];
    for (let i = 0; i < keys.length; i++) {
      const firstSeq = keys[i]![1];
      const next = keys[i + 1];
      const lastSeq = next ? next[1] - 1 : firstSeq + countOf(this.events.get(keys[i]!)!) - 1;
      if (lastSeq < before) this.events.remove(keys[i]!);
    }
  }

  protected findId(id: string): { sid: number; seq: number } | undefined {
    const logged = this.logged.findId(id);
    if (logged) return logged;
    const found = this.ids.get(id);
    if (found) return { sid: found[0], seq: found[1] };
    return locateInRun(id, (prefix) => this.runs.get(prefix));
  }

  /**
   * The stored values of `sid` holding events in [from, to], in seq order: the value holding
   * `from` (found by looking back from it) and every later one starting at or before `to`.
   */
  private *values(sid: number, from: number, to: number): Generator<{ firstSeq: number; value: Buffer }> {
    let start = from;
    for (const key of this.events.getKeys({ start: [sid, from], end: [sid, -1], reverse: true, limit: 1 })) start = key[1];
    for (const { key, value } of this.events.getRange({ start: [sid, start], end: [sid, to + 1] })) {
      this.readBytes += value.length;
      yield { firstSeq: key[1], value };
    }
  }

  /** As `values`, followed by the logged values LMDB does not hold yet. */
  private *valuesWithLogged(sid: number, from: number, to: number): Generator<{ firstSeq: number; value: Buffer }> {
    const loggedFrom = this.logged.firstSeq(sid);
    if (loggedFrom === undefined) return yield* this.values(sid, from, to);
    if (from < loggedFrom) yield* this.values(sid, from, Math.min(to, loggedFrom - 1));
    yield* this.logged.values(sid, from, to);
  }

  protected summaries(sid: number, from: number, to: number, limit: number): RecordSummary[] {
    const out: RecordSummary[] = [];
    for (const { firstSeq, value } of this.valuesWithLogged(sid, from, to)) {
      for (const s of summarizeValue(value, firstSeq)) {
        if (s.seq < from) continue;
        if (s.seq > to || out.length >= limit) return out;
        out.push(s);
      }
    }
    return out;
  }

  protected readRecords(sid: number, after: number, upTo: number, limit: number): EventRecordWithSeq[] {
    const out: EventRecordWithSeq[] = [];
    for (const { firstSeq, value } of this.valuesWithLogged(sid, after + 1, upTo)) {
      const skip = Math.max(0, after + 1 - firstSeq);
      for (const { record, index } of decodeValue(value, skip, Math.min(limit - out.length, upTo - firstSeq - skip + 1))) {
        out.push({ seq: firstSeq + index, record });
      }
      if (out.length >= limit) break;
    }
    const unmapAfter = this.options.unmapAfterReadBytes ?? DEFAULT_UNMAP_AFTER_READ_BYTES;
    if (unmapAfter > 0 && this.readBytes >= unmapAfter) this.pauseFor(() => this.remap());
    return out;
  }

  protected readPosition(stream: string, consumer: string): number | undefined {
    const logged = this.logged.position(stream, consumer);
    if (logged !== undefined) return logged ?? undefined;
    return this.positions.get([stream, consumer]);
  }

  protected readKv(collection: string, key: string): unknown {
    const logged = this.logged.kvEntry(collection, key);
    return logged ? logged.value : this.kv.get([collection, key]);
  }

  protected listKv(collection: string, options: Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions): Array<{ key: string; value: unknown }> {
    const written = this.logged.kvCount(collection);
    if (written === 0) return this.storedKv(collection, options);
    return this.logged.mergeKv(collection, this.storedKv(collection, { ...options, limit: options.limit + written }), options);
  }

  private storedKv(collection: string, options: Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions): Array<{ key: string; value: unknown }> {
    const { prefix = '', after, limit, reverse } = options;
    // Descending starts above every key with the prefix (U+10FFFF is the largest code point).
    const from = after ?? (reverse ? `${prefix}\u{10FFFF}\u{10FFFF}` : prefix);
    const out: Array<{ key: string; value: unknown }> = [];
    for (const { key, value } of this.kv.getRange({ start: [collection, from], reverse })) {
      const [owner, name] = key;
      if (owner !== collection || !name.startsWith(prefix)) {
        if (owner !== collection || (reverse ? name < prefix : name > prefix)) break;
        continue;
      }
      if (name === after) continue;
      out.push({ key: name, value });
      if (out.length >= limit) break;
    }
    return out;
  }
}
