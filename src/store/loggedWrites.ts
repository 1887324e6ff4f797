import { IdIndex } from './idIndex.js';
import { selectKv } from './kv.js';
import type { EventChunk } from './recordCodec.js';
import type { KvListOptions } from './types.js';
import type { LoggedCommit } from './walBatch.js';

type KvOptions = Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions;

/**
 * The commits that the write-ahead log made durable and LMDB does not hold yet, kept so that
 * reads see them: the LMDB store answers from here first, then from LMDB. Events are kept as the
 * values LMDB will store (one buffer per stream and commit, read with the same codec). Everything
 * here is newer than what LMDB holds, so events here follow LMDB's in each stream, and an id,
 * position or key found here wins over LMDB's. Removed events and ids need no record here:
 * stream metadata lives in LogStore, which never asks for what retention or a delete removed.
 * Removed positions and keys do, since they hide LMDB's.
 */
export class LoggedWrites {
  /** The logged commits in log order, for LMDB to take. */
  readonly commits: LoggedCommit[] = [];
  /** Each stream's logged events, in seq order (consecutive seqs). */
  private readonly chunks = new Map<number, EventChunk[]>();
  private readonly ids = new IdIndex();
  private readonly positions = new Map<string, Map<string, number>>();
  /** Streams whose positions (in LMDB) a delete removed. */
  private readonly clearedPositions = new Set<string>();
  /** Key-value writes by collection and key; undefined: deleted. */
  private readonly kv = new Map<string, Map<string, unknown>>();

  get size(): number {
    return this.commits.length;
  }

  /** Adds one logged commit (kept, not copied: the caller no longer changes it). */
  add(w: LoggedCommit): void {
    this.commits.push(w);
    for (const chunk of w.chunks) {
      const list = this.chunks.get(chunk.sid);
      if (list) list.push(chunk);
      else this.chunks.set(chunk.sid, [chunk]);
    }
    this.ids.add(w);
    // The LMDB store's order: a delete's removals first, then the batch's new positions.
    for (const name of w.removedPositionsOf) {
      this.positions.delete(name);
      this.clearedPositions.add(name);
    }
    for (const { stream, consumer, seq } of w.positions) {
      let byConsumer = this.positions.get(stream);
      if (!byConsumer) this.positions.set(stream, (byConsumer = new Map()));
      byConsumer.set(consumer, seq);
    }
    for (const { collection, key, value } of w.kv) {
      let entries = this.kv.get(collection);
      if (!entries) this.kv.set(collection, (entries = new Map()));
      entries.set(key, value);
    }
  }

  /** Forgets every commit (LMDB holds them now). */
  clear(): void {
    this.commits.length = 0;
    this.chunks.clear();
    this.ids.clear();
    this.positions.clear();
    this.clearedPositions.clear();
    this.kv.clear();
  }

  /** The first seq of `sid` held here (events below it are in LMDB). */
  firstSeq(sid: number): number | undefined {
    return this.chunks.get(sid)?.[0]!.firstSeq;
  }

  /** The values holding events of `sid` with seqs in [from, to], in seq order. */
  *values(sid: number, from: number, to: number): Generator<{ firstSeq: number; value: Buffer }> {
    for (const chunk of this.chunks.get(sid) ?? []) {
      if (chunk.firstSeq > to) return;
      if (chunk.firstSeq + chunk.count > from) yield chunk;
    }
  }

  findId(id: string): { sid: number; seq: number } | undefined {
    return this.ids.find(id);
  }

  /** A position set here; `null` when a delete removed the stream's positions since LMDB's. */
  position(stream: string, consumer: string): number | null | undefined {
    const seq = this.positions.get(stream)?.get(consumer);
    if (seq !== undefined) return seq;
    return this.clearedPositions.has(stream) ? null : undefined;
  }

  /** Whether a key was written here, and its value (undefined: deleted). */
  kvEntry(collection: string, key: string): { value: unknown } | undefined {
    const entries = this.kv.get(collection);
    return entries?.has(key) ? { value: entries.get(key) } : undefined;
  }

  /** How many keys of a collection were written here. */
  kvCount(collection: string): number {
    return this.kv.get(collection)?.size ?? 0;
  }

  /**
   * A kvList over LMDB's entries (`stored`, listed with `kvCount` more than the limit, so that
   * keys deleted here cannot leave it short) with the writes made here on top.
   */
  mergeKv(collection: string, stored: Array<{ key: string; value: unknown }>, options: KvOptions): Array<{ key: string; value: unknown }> {
    const entries = this.kv.get(collection);
    if (!entries) return stored.slice(0, options.limit);
    const merged = new Map(stored.map(({ key, value }) => [key, value]));
    for (const [key, value] of entries) {
      if (value === undefined) merged.delete(key);
      else merged.set(key, value);
    }
    return selectKv([...merged.keys()].sort(), options).map((key) => ({ key, value: merged.get(key) }));
  }
}
