import type { Store } from '../../store/types.js';
import { SharedStatuses } from './sharedStatuses.js';
import {
  MARKS_COLLECTION, PAGE, readStatuses, StreamStatuses, VERSION_COLLECTION, WATERMARK_COLLECTION, type ChangeSink, type Status,
} from './statusState.js';

export { MARKS_COLLECTION, markKey, StreamStatuses, VERSION_COLLECTION, WATERMARK_COLLECTION, type Status } from './statusState.js';

/**
 * Each event's event-bus status (0 unprocessed, 1 processed, 2 retry), kept as durable consumer
 * state in the store's key-value collections (layout in statusState.ts, docs/eventbus.md
 * "Statuses").
 *
 * A consumer that marks events 1 in order only ever moves the watermark: no per-event entry is
 * written, and process_events starts reading the log above it, so its cost does not grow with
 * the processed history. Marks out of order become entries until the watermark catches up.
 *
 * One process (a single-node store, one Herald per LMDB directory): the state of a stream is
 * loaded once and then kept in memory, where every mark is applied synchronously in arrival
 * order; that is what makes concurrent marks consistent. The changes of one event-loop turn go
 * to the store in one key-value write, in the same group commit as the appends of that turn, and
 * each mark is answered once that write is durable.
 *
 * Several nodes (`store.shared`): no node may trust its memory, so reads check a version and
 * marks are stored by compare-and-set (SharedStatuses).
 */
export class StatusBook {
  private readonly streams = new Map<string, Promise<StreamStatuses>>();
  private readonly shared: SharedStatuses | undefined;
  /** Changes of the current turn, by collection and key (a later change of a key wins). */
  private pending = new Map<string, { collection: string; key: string; value: number | undefined }>();
  private flush: Promise<void> | undefined;
  private readonly change: ChangeSink = (collection, key, value) => this.pending.set(`${collection}\u0000${key}`, { collection, key, value });

  constructor(private readonly store: Store) {
    this.shared = store.shared ? new SharedStatuses(store) : undefined;
  }

  /** The state of a stream incarnation. Marks of seqs below `firstSeq` (gone by retention) are dropped. */
  load(streamId: string, firstSeq: number): Promise<StreamStatuses> {
    if (this.shared) return this.shared.load(streamId, firstSeq);
    let loading = this.streams.get(streamId);
    if (!loading) {
      loading = readStatuses(this.store, streamId, firstSeq).then(({ state, stale }) => {
        for (const key of stale) this.change(MARKS_COLLECTION, key, undefined);
        return state;
      });
      this.streams.set(streamId, loading);
      loading.catch(() => this.streams.delete(streamId));
    }
    return loading;
  }

  /**
   * Sets the status of event `seq`. Resolves once the mark has its place in the order of marks
   * (callers wait for this before taking the next mark), with `durable`, which resolves once the
   * mark is stored.
   */
  async mark(streamId: string, firstSeq: number, seq: number, status: Status): Promise<{ durable: Promise<void> }> {
    if (this.shared) return { durable: this.shared.mark(streamId, firstSeq, seq, status) };
    (await this.load(streamId, firstSeq)).apply(seq, status, this.change);
    return { durable: this.scheduleFlush() };
  }

  /** Removes the stored state of a stream incarnation (after its stream is deleted). */
  async forget(streamId: string): Promise<void> {
    this.streams.delete(streamId);
    this.shared?.drop(streamId);
    for (const key of this.pendingKeysOf(streamId)) this.pending.delete(key);
    this.change(WATERMARK_COLLECTION, streamId, undefined);
    this.change(VERSION_COLLECTION, streamId, undefined);
    await this.scheduleFlush();
    await this.deleteMatching(`${streamId}:`);
  }

  /**
   * Removes stored state of stream incarnations that no longer exist (deleted by any protocol).
   * `liveIds` is asked again right before each deletion, so a stream created meanwhile keeps its state.
   */
  async sweep(liveIds: () => Promise<ReadonlySet<string>>): Promise<void> {
    for (const collection of [WATERMARK_COLLECTION, VERSION_COLLECTION]) {
      const entries = await this.listAll(collection);
      const live = await liveIds();
      for (const { key } of entries) if (!live.has(key)) this.change(collection, key, undefined);
    }
    await this.scheduleFlush();
    let after: string | undefined;
    for (;;) {
      const page = await this.store.kvList(MARKS_COLLECTION, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
      const live = await liveIds();
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
