import { LogStore, type LogStoreOptions, type BatchWrites, type EventRecordWithSeq, type LoadedState, type RecordSummary } from './logStore.js';
import type { EventRecord } from './record.js';
import type { KvListOptions, RetentionPolicy } from './types.js';
import { selectKv } from './kv.js';
import { IdIndex } from './idIndex.js';

export interface MemoryStoreOptions extends LogStoreOptions {
  /** Bound on each stream: the oldest events past this count are removed by retention. */
  maxEventsPerStream?: number;
}

/**
 * One stream's events in seq order: an array from `base`, trimmed from the front by moving
 * `start` and compacted now and then. It was a Map by seq: at the 100,000-event bound every
 * append is one insert and one delete, and a V8 Map of that size under such churn costs 1–2 µs
 * per pair (it rehashes over and over).
 */
class StreamLog {
  private records: Array<EventRecord | undefined> = [];
  /** Beside each record: whether its id was minted (retention then removes its run, not its id). */
  private minted: boolean[] = [];
  /** The seq of records[0]. */
  private base = 0;
  /** Records before this index are trimmed. */
  private start = 0;

  push(seq: number, record: EventRecord, minted: boolean): void {
    if (this.start === this.records.length) {
      this.records = [];
      this.minted = [];
      this.base = seq;
      this.start = 0;
    }
    // Seqs are consecutive per stream; a hole would only be left empty.
    while (this.base + this.records.length < seq) {
      this.records.push(undefined);
      this.minted.push(false);
    }
    this.records.push(record);
    this.minted.push(minted);
  }

  get(seq: number): EventRecord | undefined {
    const i = seq - this.base;
    return i >= this.start ? this.records[i] : undefined;
  }

  /** The kept records from `seq` on, in seq order. */
  *from(seq: number): Generator<[seq: number, record: EventRecord, minted: boolean]> {
    for (let i = Math.max(this.start, seq - this.base); i < this.records.length; i++) {
      const record = this.records[i];
      if (record) yield [this.base + i, record, this.minted[i]!];
    }
  }

  /** Removes the records below `before`. */
  trimBelow(before: number): void {
    const end = Math.min(before - this.base, this.records.length);
    for (let i = this.start; i < end; i++) this.records[i] = undefined;
    this.start = Math.max(this.start, end);
    // Compact once the trimmed front is most of the array: amortized O(1) per record.
    if (this.start >= 1024 && this.start * 2 >= this.records.length) {
      this.records = this.records.slice(this.start);
      this.minted = this.minted.slice(this.start);
      this.base += this.start;
      this.start = 0;
    }
  }
}

/**
 * The in-memory store: for tests and for fire-and-forget use. Nothing survives a restart.
 * Bounded: each stream keeps at most `maxEventsPerStream` events (default 100,000), trimmed
 * by the same retention pass as any other policy.
 */
export class MemoryStore extends LogStore {
  readonly kind = 'memory';
  private readonly events = new Map<number, StreamLog>();
  private readonly ids = new IdIndex();
  private readonly positions = new Map<string, number>();
  private readonly kv = new Map<string, Map<string, unknown>>();
  private readonly maxEventsPerStream: number;

  constructor(options: MemoryStoreOptions = {}) {
    super(options);
    this.maxEventsPerStream = options.maxEventsPerStream ?? 100_000;
  }

  protected async load(): Promise<LoadedState> {
    return { metas: [], nextSid: 1, trash: [] };
  }

  protected async shutdown(): Promise<void> {}

  protected override effectiveRetention(policy: RetentionPolicy): RetentionPolicy {
    return { ...policy, maxCount: Math.min(policy.maxCount ?? Infinity, this.maxEventsPerStream) };
  }

  protected async commit(w: BatchWrites): Promise<void> {
    // The LMDB store's order: removals first, so an id trimmed and stored again in one batch stays.
    for (const { sid, before } of w.trimmed) this.events.get(sid)?.trimBelow(before);
    this.ids.remove(w);
    // A copy of each payload (the caller's bytes may be a view into a larger request body), in
    // one buffer per stream and commit: an ArrayBuffer per event cost more in allocation and GC
    // than the rest of the commit. Per stream, so that trimming a stream frees its buffers.
    const slabs = new Map<number, { bytes: number; at: number; slab?: Uint8Array }>();
    for (const { sid, record } of w.events) {
      const slab = slabs.get(sid);
      if (slab) slab.bytes += record.data.byteLength;
      else slabs.set(sid, { bytes: record.data.byteLength, at: 0 });
    }
    for (const { sid, seq, record, minted } of w.events) {
      let stream = this.events.get(sid);
      if (!stream) this.events.set(sid, (stream = new StreamLog()));
      const own = slabs.get(sid)!;
      own.slab ??= new Uint8Array(own.bytes);
      const data = own.slab.subarray(own.at, (own.at += record.data.byteLength));
      data.set(record.data);
      stream.push(seq, { ...record, data }, minted);
    }
    this.ids.add(w);
    for (const name of w.removedPositionsOf) {
      for (const key of this.positions.keys()) if (key.startsWith(`${name}\0`)) this.positions.delete(key);
    }
    for (const { stream, consumer, seq } of w.positions) this.positions.set(`${stream}\0${consumer}`, seq);
    for (const { collection, key, value } of w.kv) {
      let entries = this.kv.get(collection);
      if (!entries) this.kv.set(collection, (entries = new Map()));
      if (value === undefined) entries.delete(key);
      else entries.set(key, value);
    }
    for (const sid of w.trashDone) this.events.delete(sid);
  }

  protected findId(id: string): { sid: number; seq: number } | undefined {
    return this.ids.find(id);
  }

  protected summaries(sid: number, from: number, to: number, limit: number): RecordSummary[] {
    const stream = this.events.get(sid);
    if (!stream) return [];
    const out: RecordSummary[] = [];
    for (const [seq, r, minted] of stream.from(from)) {
      if (seq > to || out.length >= limit) break;
      out.push({ seq, id: r.id, time: r.time, bytes: r.data.byteLength, minted });
    }
    return out;
  }

  protected readRecords(sid: number, after: number, upTo: number, limit: number): EventRecordWithSeq[] {
    const stream = this.events.get(sid);
    const out: EventRecordWithSeq[] = [];
    for (let seq = after + 1; stream && seq <= upTo && out.length < limit; seq++) {
      const record = stream.get(seq);
      if (record) out.push({ seq, record });
    }
    return out;
  }

  protected readPosition(stream: string, consumer: string): number | undefined {
    return this.positions.get(`${stream}\0${consumer}`);
  }

  protected readKv(collection: string, key: string): unknown {
    return this.kv.get(collection)?.get(key);
  }

  protected listKv(collection: string, options: Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions): Array<{ key: string; value: unknown }> {
    const entries = this.kv.get(collection);
    if (!entries) return [];
    // Sorting per call is fine for the collection sizes adapters keep (bounded histories).
    const keys = [...entries.keys()].sort();
    return selectKv(keys, options).map((key) => ({ key, value: entries.get(key) }));
  }
}
