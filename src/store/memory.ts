import { LogStore, type LogStoreOptions, type BatchWrites, type EventRecordWithSeq, type LoadedState, type RecordSummary } from './logStore.js';
import type { EventRecord } from './record.js';
import type { KvListOptions, RetentionPolicy } from './types.js';
import { selectKv } from './kv.js';

export interface MemoryStoreOptions extends LogStoreOptions {
  /** Bound on each stream: the oldest events past this count are removed by retention. */
  maxEventsPerStream?: number;
}

/**
 * The in-memory store: for tests and for fire-and-forget use. Nothing survives a restart.
 * Bounded: each stream keeps at most `maxEventsPerStream` events (default 100,000), trimmed
 * by the same retention pass as any other policy.
 */
export class MemoryStore extends LogStore {
  readonly kind = 'memory';
  private readonly events = new Map<number, Map<number, EventRecord>>();
  private readonly ids = new Map<string, { sid: number; seq: number }>();
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
    for (const { sid, seq, record } of w.events) {
      let stream = this.events.get(sid);
      if (!stream) this.events.set(sid, (stream = new Map()));
      // A copy of the payload: the caller's bytes may be a view into a larger request body.
      stream.set(seq, { ...record, data: Uint8Array.prototype.slice.call(record.data) });
    }
    for (const { sid, before } of w.trimmed) this.trim(sid, before);
    // Every id, minted or not, in one map: id runs (batch.ts) matter only for the LMDB index.
    for (const { sid, seq, record } of w.events) this.ids.set(record.id, { sid, seq });
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

  /** Removes the events of `sid` below `before` and their ids (unless an id was reused since). */
  private trim(sid: number, before: number): void {
    const stream = this.events.get(sid);
    if (!stream) return;
    // Keys are inserted in seq order and removed from the front, so iteration order is seq order.
    for (const [seq, record] of stream) {
      if (seq >= before) break;
      stream.delete(seq);
      const owner = this.ids.get(record.id);
      if (owner && owner.sid === sid && owner.seq === seq) this.ids.delete(record.id);
    }
  }

  protected findId(id: string): { sid: number; seq: number } | undefined {
    return this.ids.get(id);
  }

  protected summaries(sid: number, from: number, to: number, limit: number): RecordSummary[] {
    const stream = this.events.get(sid);
    if (!stream) return [];
    const out: RecordSummary[] = [];
    // Keys are inserted in seq order and removed from the front, so iteration order is seq order.
    for (const [seq, r] of stream) {
      if (seq < from) continue;
      if (seq > to || out.length >= limit) break;
      out.push({ seq, id: r.id, time: r.time, bytes: r.data.byteLength, minted: false });
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
