import type { Store } from '../../store/types.js';

/**
 * Each event's event-bus status (0 unprocessed, 1 processed, 2 retry), kept as durable consumer
 * state in the store's key-value collections (docs/eventbus.md "Statuses").
 *
 * Layout, per stream incarnation (its event-bus id, which a re-created stream does not share):
 * - `eventbus.watermark` / `<stream id>` → W: every event with seq ≤ W is processed (1) unless
 *   it has an explicit mark;
 * - `eventbus.marks` / `<stream id>:<seq, 16 digits>` → 0 | 1 | 2: the sparse exceptions.
 *   Above W only 1 and 2 are kept (0 is the default there); at or below W only 0 and 2.
 *
 * A consumer that marks events 1 in order only ever moves W: no per-event entry is written, and
 * process_events starts reading the log at W + 1, so its cost does not grow with the processed
 * history. Marks out of order become entries until W catches up with them.
 *
 * The state of a stream is loaded once and then kept in memory, where every mark is applied
 * synchronously in arrival order; that is what makes concurrent marks consistent. The changes of
 * one event-loop turn go to the store in one key-value write, in the same group commit as the
 * appends of that turn, and each mark is answered once that write is durable. This process is
 * the only writer of these keys (one Herald per LMDB directory); a shared multi-node store would
 * need a lease per stream (noted in docs/eventbus.md).
 */

export type Status = 0 | 1 | 2;

export const WATERMARK_COLLECTION = 'eventbus.watermark';
export const MARKS_COLLECTION = 'eventbus.marks';
const PAGE = 1000;

export const markKey = (streamId: string, seq: number): string => `${streamId}:${String(seq).padStart(16, '0')}`;

/** The consumer state of one stream incarnation. */
export class StreamStatuses {
  /** Every seq ≤ watermark is processed unless `marks` says otherwise. */
  watermark: number;
  /** Explicit statuses: above the watermark 1 or 2, at or below it 0 or 2. */
  readonly marks = new Map<number, Status>();

  constructor(readonly streamId: string, watermark: number) {
    this.watermark = watermark;
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
}

interface Change {
  collection: string;
  key: string;
  value: number | undefined;
}

export class StatusBook {
  private readonly streams = new Map<string, Promise<StreamStatuses>>();
  /** Changes of the current turn, by collection and key (a later change of a key wins). */
  private pending = new Map<string, Change>();
  private flush: Promise<void> | undefined;

  constructor(private readonly store: Store) {}

  /** The state of a stream incarnation, loaded on first use. Marks of seqs below `firstSeq` (gone by retention) are dropped. */
  load(streamId: string, firstSeq: number): Promise<StreamStatuses> {
    let loading = this.streams.get(streamId);
    if (!loading) {
      loading = this.read(streamId, firstSeq);
      this.streams.set(streamId, loading);
      loading.catch(() => this.streams.delete(streamId));
    }
    return loading;
  }

  private async read(streamId: string, firstSeq: number): Promise<StreamStatuses> {
    const state = new StreamStatuses(streamId, (await this.store.kvGet<number>(WATERMARK_COLLECTION, streamId)) ?? 0);
    const prefix = `${streamId}:`;
    let after: string | undefined;
    for (;;) {
      const page = await this.store.kvList<number>(MARKS_COLLECTION, { prefix, limit: PAGE, ...(after !== undefined ? { after } : {}) });
      for (const { key, value } of page) {
        const seq = Number(key.slice(prefix.length));
        if (seq < firstSeq) this.change(MARKS_COLLECTION, key, undefined);
        else state.marks.set(seq, value as Status);
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.key;
    }
    // Events below the first stored one are gone: as good as processed (kept in memory only).
    if (state.watermark < firstSeq - 1) state.watermark = firstSeq - 1;
    return state;
  }

  /**
   * Sets the status of `seq` in memory now and resolves once the change is durable. Advances
   * the watermark over every processed event that directly follows it.
   */
  mark(state: StreamStatuses, seq: number, status: Status): Promise<void> {
    const next = state.watermark + 1;
    if (seq === next && status === 1) {
      // The common case, a consumer going in order: the watermark moves, over this event and
      // the run of events marked processed right after it; no per-event entry is kept.
      if (state.marks.delete(seq)) this.change(MARKS_COLLECTION, markKey(state.streamId, seq), undefined);
      let w = seq;
      while (state.marks.get(w + 1) === 1) {
        w++;
        state.marks.delete(w);
        this.change(MARKS_COLLECTION, markKey(state.streamId, w), undefined);
      }
      this.setWatermark(state, w);
    } else {
      this.setExplicit(state, seq, status);
    }
    return this.scheduleFlush();
  }

  private setExplicit(state: StreamStatuses, seq: number, status: Status): void {
    const { streamId } = state;
    const wasDefault = seq <= state.watermark ? 1 : 0;
    if (status === wasDefault) {
      if (state.marks.delete(seq)) this.change(MARKS_COLLECTION, markKey(streamId, seq), undefined);
    } else {
      state.marks.set(seq, status);
      this.change(MARKS_COLLECTION, markKey(streamId, seq), status);
    }
  }

  /** Removes the stored state of a stream incarnation (after its stream is deleted). */
  async forget(streamId: string): Promise<void> {
    this.streams.delete(streamId);
    for (const key of this.pendingKeysOf(streamId)) this.pending.delete(key);
    this.change(WATERMARK_COLLECTION, streamId, undefined);
    await this.scheduleFlush();
    await this.deleteMatching(`${streamId}:`);
  }

  /**
   * Removes stored state of stream incarnations that no longer exist (deleted by any protocol).
   * `liveIds` is asked again right before each deletion, so a stream created meanwhile keeps its state.
   */
  async sweep(liveIds: () => Promise<ReadonlySet<string>>): Promise<void> {
    const watermarks = await this.listAll(WATERMARK_COLLECTION);
    let live = await liveIds();
    for (const { key } of watermarks) if (!live.has(key)) this.change(WATERMARK_COLLECTION, key, undefined);
    await this.scheduleFlush();
    let after: string | undefined;
    for (;;) {
      const page = await this.store.kvList(MARKS_COLLECTION, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
      live = await liveIds();
      const keys = page.map((e) => e.key).filter((key) => !live.has(key.slice(0, key.indexOf(':'))));
      if (keys.length > 0) await this.store.kvWrite(keys.map((key) => ({ collection: MARKS_COLLECTION, key })));
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.key;
    }
  }

  private async deleteMatching(prefix: string): Promise<void> {
    for (;;) {
      const page = await this.store.kvList(MARKS_COLLECTION, { prefix, limit: PAGE });
      if (page.length > 0) await this.store.kvWrite(page.map(({ key }) => ({ collection: MARKS_COLLECTION, key })));
      if (page.length < PAGE) return;
    }
  }

  private async listAll(collection: string): Promise<Array<{ key: string }>> {
    const out: Array<{ key: string }> = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.store.kvList(collection, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
      out.push(...page);
      if (page.length < PAGE) return out;
      after = page[page.length - 1]!.key;
    }
  }

  private pendingKeysOf(streamId: string): string[] {
    return [...this.pending.keys()].filter((k) => k.startsWith(`${MARKS_COLLECTION}\u0000${streamId}:`));
  }

  private setWatermark(state: StreamStatuses, w: number): void {
    state.watermark = w;
    this.change(WATERMARK_COLLECTION, state.streamId, w);
  }

  private change(collection: string, key: string, value: number | undefined): void {
    this.pending.set(`${collection}\u0000${key}`, { collection, key, value });
  }

  /** One key-value write per event-loop turn carries every change made in it. */
  private scheduleFlush(): Promise<void> {
    this.flush ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        const changes = [...this.pending.values()];
        this.pending = new Map();
        this.flush = undefined;
        if (changes.length === 0) return resolve();
        this.store.kvWrite(changes.map(({ collection, key, value }) => ({ collection, key, value }))).then(resolve, reject);
      });
    });
    return this.flush;
  }
}
