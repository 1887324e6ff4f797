import { HeraldError } from '../../core/errors.js';
import type { KvWrite, Store } from '../../store/types.js';
import { MARKS_COLLECTION, readStatuses, VERSION_COLLECTION, type ChangeSink, type Status, type StreamStatuses } from './statusState.js';

/** A stream's statuses as this node last read or wrote them, and the version they had. */
interface Versioned {
  state: StreamStatuses;
  /** The stored version (0: none stored yet). */
  version: number;
  /** Marks of events gone by retention, deleted with the next change. */
  stale: string[];
}

interface QueuedMark {
  seq: number;
  status: Status;
  resolve(): void;
  reject(err: unknown): void;
}

/** Tries of one change (or one consistent read) before giving up under contention. */
const MAX_ATTEMPTS = 50;

/**
 * Event-bus statuses on a store that several Herald nodes share (`store.shared`, the postgres
 * store): a mark on node A is seen by process_events on node B, and marks from several nodes
 * leave one consistent state, as marks from several connections do on a single node.
 *
 * Every change of a stream's statuses bumps its version (`eventbus.version` / `<stream id>`) and
 * is stored with `kvWriteIf` expecting the version it was computed from, so a change made from
 * an outdated copy is refused and computed again from the stored state: read-modify-write with
 * compare-and-set, the last change stored wins, nothing is lost and the watermark never moves
 * back. The marks of one stream that arrive while a change is being stored are applied together
 * in the next one (in arrival order), so contention costs a retry per batch, not per mark.
 *
 * Reads check the version (one key read) and reuse this node's copy while it is current, so a
 * process_events costs one small query more than on a single node, not a reload of every mark.
 */
export class SharedStatuses {
  private readonly cache = new Map<string, Versioned>();
  /** The first stored seq each stream had when last loaded (needed to reload it). */
  private readonly firstSeqs = new Map<string, number>();
  private readonly queues = new Map<string, QueuedMark[]>();

  constructor(private readonly store: Store) {}

  /** The stored state of a stream incarnation. */
  async load(streamId: string, firstSeq: number): Promise<StreamStatuses> {
    this.firstSeqs.set(streamId, firstSeq);
    const version = await this.version(streamId);
    const cached = this.cache.get(streamId);
    if (cached && cached.version === version) return cached.state.floor(firstSeq);
    return (await this.reload(streamId, firstSeq)).state;
  }

  /** Queues a mark; resolves once a change carrying it is stored. Marks of one stream keep their order. */
  mark(streamId: string, firstSeq: number, seq: number, status: Status): Promise<void> {
    this.firstSeqs.set(streamId, firstSeq);
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(streamId);
      const idle = queue === undefined;
      if (!queue) this.queues.set(streamId, (queue = []));
      queue.push({ seq, status, resolve, reject });
      if (idle) setImmediate(() => void this.drain(streamId));
    });
  }

  /** Forgets this node's copy (the stream was deleted). */
  drop(streamId: string): void {
    this.cache.delete(streamId);
    this.firstSeqs.delete(streamId);
  }

  /** Stores the queued marks of a stream, a batch per change, until none is left. */
  private async drain(streamId: string): Promise<void> {
    const queue = this.queues.get(streamId)!;
    while (queue.length > 0) {
      const marks = queue.splice(0);
      try {
        await this.change(streamId, marks);
        for (const m of marks) m.resolve();
      } catch (err) {
        // Whether it was stored is unknown (a lost connection): read it again next time.
        this.cache.delete(streamId);
        for (const m of marks) m.reject(err);
      }
    }
    this.queues.delete(streamId);
  }

  /** Applies `marks` to the stored state and stores the result, again from a fresh read while another node got there first. */
  private async change(streamId: string, marks: readonly QueuedMark[]): Promise<void> {
    let base = this.cache.get(streamId);
    for (let attempt = 1; ; attempt++) {
      base ??= await this.reload(streamId, this.firstSeqs.get(streamId) ?? 1);
      const next = base.state.clone();
      const writes = new Map<string, KvWrite>();
      const change: ChangeSink = (collection, key, value) => writes.set(`${collection}\u0000${key}`, { collection, key, value });
      for (const key of base.stale) change(MARKS_COLLECTION, key, undefined);
      for (const m of marks) next.apply(m.seq, m.status, change);
      const version = base.version + 1;
      change(VERSION_COLLECTION, streamId, version);
      const expect: KvWrite = base.version === 0 ? { collection: VERSION_COLLECTION, key: streamId } : { collection: VERSION_COLLECTION, key: streamId, value: base.version };
      if (await this.store.kvWriteIf([expect], [...writes.values()])) {
        this.cache.set(streamId, { state: next, version, stale: [] });
        return;
      }
      if (attempt >= MAX_ATTEMPTS) throw new HeraldError('unavailable', `event-bus statuses of stream ${streamId} changed ${MAX_ATTEMPTS} times in a row on other nodes while this one tried to mark; try again`);
      base = undefined;
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }

  /**
   * Reads the stored state afresh. The version is read before and after: equal, no change was
   * stored in between (every change bumps it), so the watermark and marks read belong together.
   */
  private async reload(streamId: string, firstSeq: number): Promise<Versioned> {
    for (let attempt = 1; ; attempt++) {
      const version = await this.version(streamId);
      const { state, stale } = await readStatuses(this.store, streamId, firstSeq);
      if ((await this.version(streamId)) === version) {
        const loaded = { state, version, stale };
        this.cache.set(streamId, loaded);
        return loaded;
      }
      if (attempt >= MAX_ATTEMPTS) throw new HeraldError('unavailable', `event-bus statuses of stream ${streamId} kept changing while being read; try again`);
    }
  }

  private async version(streamId: string): Promise<number> {
    return (await this.store.kvGet<number>(VERSION_COLLECTION, streamId)) ?? 0;
  }
}
