import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { LogStore, type LogStoreOptions, type BatchWrites, type EventRecordWithSeq, type LoadedState, type RecordSummary } from './logStore.js';
import type { StreamMeta } from './meta.js';
import type { KvListOptions } from './types.js';
import { DirLock } from './dirLock.js';
import { decodeRecord, encodeRecord, summarizeRecord } from './recordCodec.js';

export interface LmdbStoreOptions extends LogStoreOptions {
  /** Directory of the database (created when absent). */
  path: string;
  /** Largest size the memory map may grow to, in bytes (default 64 GiB; only what is used costs disk). */
  mapSize?: number;
  /**
   * LMDB's overlapping sync: a commit completes before its flush, and durable() waits for the
   * flush. Off (the default), each commit syncs before it completes, which measured lower
   * latency per durable commit on these machines (docs/store.md).
   */
  overlappingSync?: boolean;
}

type EventKey = [number, number]; // [stream sid, seq]

/**
 * The embedded durable store on LMDB (the default). One environment, six sub-databases:
 * events by [sid, seq], ids → [sid, seq], stream metadata, consumer positions, system keys, and
 * the adapters' key-value collections by [collection, key].
 *
 * Each group commit is one LMDB write transaction, run by lmdb-js off the main thread. By
 * default a commit resolves only once synced to disk; with `overlappingSync` it resolves before
 * its flush and `durable()` awaits the flush. Either way LogStore acknowledges appends (and shows
 * them to readers) only once they are on disk.
 */
export class LmdbStore extends LogStore {
  readonly kind = 'lmdb';
  private env!: RootDatabase;
  private lock: DirLock | undefined;
  private events!: Database<Buffer, EventKey>;
  private ids!: Database<[number, number], string>;
  private streams!: Database<StreamMeta, string>;
  private positions!: Database<number, [string, string]>;
  private sys!: Database<unknown, string | [string, number]>;
  private kv!: Database<unknown, [string, string]>;

  constructor(private readonly options: LmdbStoreOptions) {
    super(options);
  }

  /** Where the data lives, for logs and `herald config`. */
  get path(): string {
    return this.options.path;
  }

  protected async load(): Promise<LoadedState> {
    this.lock = DirLock.acquire(this.options.path);
    this.env = open({
      path: this.options.path,
      mapSize: this.options.mapSize ?? 64 * 1024 ** 3,
      overlappingSync: this.options.overlappingSync ?? false,
      // lmdb-js takes a path with an "extension" (`/var/lib/herald.d`, `/tmp/tmp.x1`) for a file
      // name: the path is always the directory here.
      noSubdir: false,
      maxDbs: 8,
    });
    this.events = this.env.openDB<Buffer, EventKey>({ name: 'events', encoding: 'binary' });
    this.ids = this.env.openDB<[number, number], string>({ name: 'ids' });
    this.streams = this.env.openDB<StreamMeta, string>({ name: 'streams' });
    this.positions = this.env.openDB<number, [string, string]>({ name: 'positions' });
    this.sys = this.env.openDB<unknown, string | [string, number]>({ name: 'sys' });
    this.kv = this.env.openDB<unknown, [string, string]>({ name: 'kv' });
    const metas = [...this.streams.getRange()].map(({ value }) => value);
    if (existsSync(this.damageMarker)) {
      await this.repair(metas);
      rmSync(this.damageMarker);
    }
    const trash = [...this.sys.getKeys({ start: ['trash', 0], end: ['trash', Number.MAX_SAFE_INTEGER] })].map((k) => (k as [string, number])[1]);
    const nextSid = (this.sys.get('nextSid') as number | undefined) ?? 1;
    return { metas, nextSid, trash };
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
   * acknowledgements stop at the first failure) and recount the bytes.
   */
  private async repair(metas: StreamMeta[]): Promise<void> {
    await this.env.transaction(() => {
      for (const meta of metas) {
        let expected = meta.first;
        let bytes = 0;
        let head = meta.first - 1;
        for (const { key, value } of this.events.getRange({ start: [meta.sid, meta.first], end: [meta.sid, Number.MAX_SAFE_INTEGER] })) {
          const { id, bytes: size } = summarizeRecord(value);
          if (key[1] === expected) {
            head = expected++;
            bytes += size;
            continue;
          }
          this.events.removeSync(key);
          const owner = this.ids.get(id);
          if (owner && owner[0] === meta.sid && owner[1] === key[1]) this.ids.removeSync(id);
        }
        meta.head = Math.max(head, meta.first - 1);
        meta.bytes = bytes;
        this.streams.putSync(meta.name, meta);
      }
    });
  }

  protected async shutdown(): Promise<void> {
    await this.env.close();
    this.lock?.release();
  }

  protected commit(w: BatchWrites): Promise<void> {
    // Writes issued in one synchronous run share one transaction (lmdb-js batches them per event
    // turn and executes them on its write thread); the promise of the last one resolves when
    // that transaction is committed (durable() then waits for the flush).
    for (const { sid, seq, record } of w.events) this.events.put([sid, seq], encodeRecord(record));
    for (const { sid, seq } of w.removedEvents) this.events.remove([sid, seq]);
    for (const id of w.removedIds) this.ids.remove(id);
    for (const { id, sid, seq } of w.ids) this.ids.put(id, [sid, seq]);
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

  protected async durable(): Promise<void> {
    if (this.options.overlappingSync) await this.env.flushed;
  }

  protected findId(id: string): { sid: number; seq: number } | undefined {
    const found = this.ids.get(id);
    return found ? { sid: found[0], seq: found[1] } : undefined;
  }

  protected summaries(sid: number, from: number, to: number, limit: number): RecordSummary[] {
    const out: RecordSummary[] = [];
    for (const { key, value } of this.events.getRange({ start: [sid, from], end: [sid, to + 1], limit })) {
      out.push({ seq: key[1], ...summarizeRecord(value) });
    }
    return out;
  }

  protected readRecords(sid: number, after: number, upTo: number, limit: number): EventRecordWithSeq[] {
    const out: EventRecordWithSeq[] = [];
    for (const { key, value } of this.events.getRange({ start: [sid, after + 1], end: [sid, upTo + 1], limit })) {
      out.push({ seq: key[1], record: decodeRecord(value) });
    }
    return out;
  }

  protected readPosition(stream: string, consumer: string): number | undefined {
    return this.positions.get([stream, consumer]);
  }

  protected readKv(collection: string, key: string): unknown {
    return this.kv.get([collection, key]);
  }

  protected listKv(collection: string, options: Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions): Array<{ key: string; value: unknown }> {
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
