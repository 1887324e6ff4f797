import type { Store } from '../../store/types.js';

/**
 * The event-bus statuses of one stream incarnation and how they are laid out in the store's
 * key-value collections (docs/eventbus.md "Statuses"). Per stream incarnation (its event-bus id,
 * which a re-created stream does not share):
 * - `eventbus.watermark` / `<stream id>` → W: every event with seq ≤ W is processed (1) unless
 *   it has an explicit mark;
 * - `eventbus.marks` / `<stream id>:<seq, 16 digits>` → 0 | 1 | 2: the sparse exceptions.
 *   Above W only 1 and 2 are kept (0 is the default there); at or below W only 0 and 2;
 * - on a store shared by several nodes, also `eventbus.version` / `<stream id>` → a number
 *   bumped by every change (sharedStatuses.ts).
 */

export type Status = 0 | 1 | 2;

export const WATERMARK_COLLECTION = 'eventbus.watermark';
export const MARKS_COLLECTION = 'eventbus.marks';
export const VERSION_COLLECTION = 'eventbus.version';
/** Keys per kvList call. */
export const PAGE = 1000;

export const markKey = (streamId: string, seq: number): string => `${streamId}:${String(seq).padStart(16, '0')}`;

/** Told of each stored entry a change sets (a status, a watermark) or deletes (undefined). */
export type ChangeSink = (collection: string, key: string, value: number | undefined) => void;

/** The consumer state of one stream incarnation. */
export class StreamStatuses {
  /** Every seq ≤ watermark is processed unless `marks` says otherwise. */
  watermark: number;
  /** Explicit statuses: above the watermark 1 or 2, at or below it 0 or 2. */
  readonly marks: Map<number, Status>;

  constructor(readonly streamId: string, watermark: number, marks: Iterable<[number, Status]> = []) {
    this.watermark = watermark;
    this.marks = new Map(marks);
  }

  status(seq: number): Status {
    return this.marks.get(seq) ?? (seq <= this.watermark ? 1 : 0);
  }

  /** Seqs with an explicit status `status`, ascending. */
  explicit(status: Status): number[] {
    const out: number[] = [];
    for (const [seq, s] of this.marks) if (s === status) out.push(seq);
    return out.sort((a, b) => a - b);
  }

  /** Events below the first stored one are gone: as good as processed (kept in memory only). */
  floor(firstSeq: number): this {
    if (this.watermark < firstSeq - 1) this.watermark = firstSeq - 1;
    return this;
  }

  /**
   * Sets the status of `seq`, telling `change` each stored entry that changes. Advances the
   * watermark over every processed event that directly follows it.
   */
  apply(seq: number, status: Status, change: ChangeSink): void {
    const { streamId } = this;
    if (seq === this.watermark + 1 && status === 1) {
      // The common case, a consumer going in order: the watermark moves, over this event and
      // the run of events marked processed right after it; no per-event entry is kept.
      if (this.marks.delete(seq)) change(MARKS_COLLECTION, markKey(streamId, seq), undefined);
      let w = seq;
      while (this.marks.get(w + 1) === 1) {
        w++;
        this.marks.delete(w);
        change(MARKS_COLLECTION, markKey(streamId, w), undefined);
      }
      this.watermark = w;
      change(WATERMARK_COLLECTION, streamId, w);
      return;
    }
    const wasDefault = seq <= this.watermark ? 1 : 0;
    if (status === wasDefault) {
      if (this.marks.delete(seq)) change(MARKS_COLLECTION, markKey(streamId, seq), undefined);
    } else {
      this.marks.set(seq, status);
      change(MARKS_COLLECTION, markKey(streamId, seq), status);
    }
  }

  /** A copy to change while this one stays as it is. */
  clone(): StreamStatuses {
    return new StreamStatuses(this.streamId, this.watermark, this.marks);
  }
}

/**
 * Reads the stored state of a stream incarnation. Marks of seqs below `firstSeq` (events gone by
 * retention) are left out and returned as `stale` keys, for the caller to delete.
 */
export async function readStatuses(store: Store, streamId: string, firstSeq: number): Promise<{ state: StreamStatuses; stale: string[] }> {
  const state = new StreamStatuses(streamId, (await store.kvGet<number>(WATERMARK_COLLECTION, streamId)) ?? 0);
  const stale: string[] = [];
  const prefix = `${streamId}:`;
  let after: string | undefined;
  for (;;) {
    const page = await store.kvList<number>(MARKS_COLLECTION, { prefix, limit: PAGE, ...(after !== undefined ? { after } : {}) });
    for (const { key, value } of page) {
      const seq = Number(key.slice(prefix.length));
      if (seq < firstSeq) stale.push(key);
      else state.marks.set(seq, value as Status);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.key;
  }
  state.floor(firstSeq);
  return { state, stale };
}
