import type { AppendResult } from '../core/event.js';
import { counterHex, type IdMinter } from '../core/ids.js';
import { newMeta, type StreamMeta } from './meta.js';
import type { EventRecord } from './record.js';
import type { KvWrite, RetentionPolicy } from './types.js';

/** One appended event: its stream's sid, its seq, and whether the store made up its id. */
export interface EventWrite {
  sid: number;
  seq: number;
  record: EventRecord;
  minted: boolean;
}

/**
 * A run of consecutive events of one stream whose ids the store minted as one run
 * (core/ids.ts): the ids are `prefix + hex8(lo + k)` for the events at `firstSeq + k`.
 */
export interface RunWrite {
  prefix: string;
  lo: number;
  count: number;
  sid: number;
  firstSeq: number;
}

/** Everything one commit writes. A backend turns it into one atomic, durable transaction. */
export interface BatchWrites {
  /** Appended events; those of one stream are in ascending, consecutive seq order. */
  events: EventWrite[];
  /** Producer-chosen ids (minted ones are indexed by `runs`). */
  ids: Array<{ id: string; sid: number; seq: number }>;
  runs: RunWrite[];
  /** Events of `sid` with seq below `before` are gone (retention, purge: always from the front). */
  trimmed: Array<{ sid: number; before: number }>;
  /** Producer-chosen ids of trimmed events. */
  removedIds: string[];
  /** Prefixes of runs whose every event is trimmed. */
  removedRuns: string[];
  metas: StreamMeta[];
  removedMetas: string[];
  positions: Array<{ stream: string; consumer: string; seq: number }>;
  removedPositionsOf: string[];
  /** Key-value writes, in call order (a later write of a key wins). */
  kv: KvWrite[];
  /** Stream ids whose events await purging (after a delete), and those fully purged. */
  trashAdded: number[];
  trashDone: number[];
  nextSid: number;
}

/** A batch under construction: copy-on-write views of the stream metadata it touches. */
export class Batch {
  readonly writes: BatchWrites;
  readonly metas = new Map<string, StreamMeta | null>();
  readonly newIds = new Map<string, { stream: string; seq: number }>();
  readonly grown = new Set<string>();
  /** Appends whose id is minted at the end of the batch (mint()), with the result to fill in. */
  private readonly toMint: Array<{ event: EventWrite; result: AppendResult }> = [];
  private readonly mintedResults: Array<{ prefix: string; lo: number; results: AppendResult[] }> = [];

  constructor(
    private readonly committed: Map<string, StreamMeta>,
    nextSid: number,
    /** Earlier batches not yet committed: their ids are not in the backend's index yet. */
    private readonly earlier: readonly Batch[],
  ) {
    this.writes = {
      events: [], ids: [], runs: [], trimmed: [], removedIds: [], removedRuns: [], metas: [], removedMetas: [],
      positions: [], removedPositionsOf: [], kv: [], trashAdded: [], trashDone: [], nextSid,
    };
  }

  /** The stream's metadata as this batch sees it (undefined when absent or deleted). */
  get(name: string): StreamMeta | undefined {
    if (this.metas.has(name)) return this.metas.get(name) ?? undefined;
    return this.committed.get(name);
  }

  /** A writable copy of the stream's metadata, recorded for the commit. */
  edit(name: string): StreamMeta {
    const current = this.metas.get(name);
    if (current) return current;
    const base = this.committed.get(name);
    if (!base) throw new Error(`edit of absent stream ${name}`);
    const copy: StreamMeta = { ...base, retention: { ...base.retention } };
    this.metas.set(name, copy);
    return copy;
  }

  create(name: string, created: string, retention: RetentionPolicy): StreamMeta {
    const meta = newMeta(name, this.writes.nextSid++, created, retention);
    this.metas.set(name, meta);
    return meta;
  }

  remove(name: string): void {
    this.metas.set(name, null);
  }

  /** An id appended by this batch or by one still in flight. */
  pendingId(id: string): { stream: string; seq: number } | undefined {
    const own = this.newIds.get(id);
    if (own) return own;
    for (const b of this.earlier) {
      const found = b.newIds.get(id);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * A key-value entry as this batch sees it: its latest write in this batch or in a batch still
   * in flight, else what `committed` reads from the store.
   */
  kvValue(collection: string, key: string, committed: () => unknown): unknown {
    for (const batch of [this, ...[...this.earlier].reverse()]) {
      const kv = batch.writes.kv;
      for (let i = kv.length - 1; i >= 0; i--) {
        if (kv[i]!.collection === collection && kv[i]!.key === key) return kv[i]!.value;
      }
    }
    return committed();
  }

  /** Appends one event at the stream's next seq. An empty `record.id` is minted by mint(). */
  addEvent(meta: StreamMeta, record: EventRecord): AppendResult {
    const seq = ++meta.head;
    meta.bytes += record.data.byteLength;
    const minted = record.id === '';
    const event: EventWrite = { sid: meta.sid, seq, record, minted };
    this.writes.events.push(event);
    const result: AppendResult = { stream: record.stream, seq, id: record.id, duplicate: false };
    if (minted) this.toMint.push({ event, result });
    else {
      this.writes.ids.push({ id: record.id, sid: meta.sid, seq });
      this.newIds.set(record.id, { stream: record.stream, seq });
    }
    this.grown.add(record.stream);
    return result;
  }

  /**
   * Gives every event appended without an id one, as few runs as possible: one per stretch of
   * consecutive seqs of a stream. A fresh id cannot be stored yet, and nobody can know it before
   * the batch is durable, so minted ids need no duplicate check.
   */
  mint(minter: IdMinter): void {
    if (this.toMint.length === 0) return;
    const open = new Map<number, { members: Array<{ event: EventWrite; result: AppendResult }> }>();
    const runs: Array<{ members: Array<{ event: EventWrite; result: AppendResult }> }> = [];
    for (const item of this.toMint) {
      const run = open.get(item.event.sid);
      const last = run?.members[run.members.length - 1];
      if (run && last!.event.seq + 1 === item.event.seq) {
        run.members.push(item);
      } else {
        const fresh = { members: [item] };
        open.set(item.event.sid, fresh);
        runs.push(fresh);
      }
    }
    for (const { members } of runs) {
      const { prefix, lo } = minter.run(members.length);
      const first = members[0]!.event;
      this.writes.runs.push({ prefix, lo, count: members.length, sid: first.sid, firstSeq: first.seq });
      members.forEach(({ event }, k) => {
        event.record.id = prefix + counterHex(lo + k);
      });
      this.mintedResults.push({ prefix, lo, results: members.map((m) => m.result) });
    }
    this.toMint.length = 0;
  }

  /**
   * Fills the minted ids into the appends' results, once the batch is durable. Until then the
   * results hold no id strings: less to keep alive (and for the GC to move) while the commit runs.
   */
  fillMintedIds(): void {
    for (const { prefix, lo, results } of this.mintedResults) {
      for (let k = 0; k < results.length; k++) results[k]!.id = prefix + counterHex(lo + k);
    }
    this.mintedResults.length = 0;
  }
}
