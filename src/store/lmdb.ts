import { open, type Database, type RootDatabase } from 'lmdb';
import { LogStore, type LogStoreOptions, type BatchWrites, type EventRecordWithSeq, type LoadedState, type RecordSummary } from './logStore.js';
import type { StreamMeta } from './meta.js';
import type { EventRecord } from './record.js';

export interface LmdbStoreOptions extends LogStoreOptions {
  /** Directory of the database (created when absent). */
  path: string;
  /** Largest size the memory map may grow to, in bytes (default 64 GiB; only what is used costs disk). */
  mapSize?: number;
}

/** A stored event on disk: short keys, the stream is implied by the key. */
interface DiskRecord {
  i: string; // id
  t: string; // type
  m: string; // time
  c: string; // content type
  d: Uint8Array; // data
  s?: string; // subject
  h?: Record<string, string>; // headers
}

type EventKey = [number, number]; // [stream sid, seq]

/**
 * The embedded durable store on LMDB (the default). One environment, five sub-databases:
 * events by [sid, seq], ids → [sid, seq], stream metadata, consumer positions, and system keys.
 *
 * Each group commit is one LMDB write transaction, run by lmdb-js off the main thread. The
 * environment is opened with `overlappingSync: false`, so a commit's promise resolves only once
 * the transaction is synced to disk: an append is acknowledged only when it is durable.
 */
export class LmdbStore extends LogStore {
  readonly kind = 'lmdb';
  private env!: RootDatabase;
  private events!: Database<DiskRecord, EventKey>;
  private ids!: Database<[number, number], string>;
  private streams!: Database<StreamMeta, string>;
  private positions!: Database<number, [string, string]>;
  private sys!: Database<unknown, string | [string, number]>;

  constructor(private readonly options: LmdbStoreOptions) {
    super(options);
  }

  /** Where the data lives, for logs and `herald config`. */
  get path(): string {
    return this.options.path;
  }

  protected async load(): Promise<LoadedState> {
    this.env = open({
      path: this.options.path,
      overlappingSync: false,
      mapSize: this.options.mapSize ?? 64 * 1024 ** 3,
      maxDbs: 8,
    });
    this.events = this.env.openDB<DiskRecord, EventKey>({ name: 'events' });
    this.ids = this.env.openDB<[number, number], string>({ name: 'ids' });
    this.streams = this.env.openDB<StreamMeta, string>({ name: 'streams' });
    this.positions = this.env.openDB<number, [string, string]>({ name: 'positions' });
    this.sys = this.env.openDB<unknown, string | [string, number]>({ name: 'sys' });
    const metas = [...this.streams.getRange()].map(({ value }) => value);
    const trash = [...this.sys.getKeys({ start: ['trash', 0], end: ['trash', Number.MAX_SAFE_INTEGER] })].map((k) => (k as [string, number])[1]);
    const nextSid = (this.sys.get('nextSid') as number | undefined) ?? 1;
    return { metas, nextSid, trash };
  }

  protected async shutdown(): Promise<void> {
    await this.env.close();
  }

  protected commit(w: BatchWrites): Promise<void> {
    return this.env.transaction(() => {
      for (const { sid, seq, record } of w.events) this.events.putSync([sid, seq], toDisk(record));
      for (const { sid, seq } of w.removedEvents) this.events.removeSync([sid, seq]);
      for (const id of w.removedIds) this.ids.removeSync(id);
      for (const { id, sid, seq } of w.ids) this.ids.putSync(id, [sid, seq]);
      for (const name of w.removedMetas) this.streams.removeSync(name);
      for (const meta of w.metas) this.streams.putSync(meta.name, meta);
      for (const name of w.removedPositionsOf) {
        for (const key of this.positions.getKeys({ start: [name, ''], end: [name, '\uffff'] })) this.positions.removeSync(key);
      }
      for (const { stream, consumer, seq } of w.positions) this.positions.putSync([stream, consumer], seq);
      for (const sid of w.trashAdded) this.sys.putSync(['trash', sid], true);
      for (const sid of w.trashDone) this.sys.removeSync(['trash', sid]);
      this.sys.putSync('nextSid', w.nextSid);
    }) as Promise<void>;
  }

  protected findId(id: string): { sid: number; seq: number } | undefined {
    const found = this.ids.get(id);
    return found ? { sid: found[0], seq: found[1] } : undefined;
  }

  protected summaries(sid: number, from: number, to: number, limit: number): RecordSummary[] {
    const out: RecordSummary[] = [];
    for (const { key, value } of this.events.getRange({ start: [sid, from], end: [sid, to + 1], limit })) {
      out.push({ seq: key[1], id: value.i, time: value.m, bytes: value.d.byteLength });
    }
    return out;
  }

  protected readRecords(sid: number, after: number, upTo: number, limit: number): EventRecordWithSeq[] {
    const out: EventRecordWithSeq[] = [];
    for (const { key, value } of this.events.getRange({ start: [sid, after + 1], end: [sid, upTo + 1], limit })) {
      out.push({ seq: key[1], record: fromDisk(value) });
    }
    return out;
  }

  protected readPosition(stream: string, consumer: string): number | undefined {
    return this.positions.get([stream, consumer]);
  }
}

function toDisk(r: EventRecord): DiskRecord {
  const disk: DiskRecord = { i: r.id, t: r.type, m: r.time, c: r.contentType, d: r.data };
  if (r.subject !== undefined) disk.s = r.subject;
  if (r.headers !== undefined) disk.h = r.headers;
  return disk;
}

function fromDisk(d: DiskRecord): EventRecord {
  // `stream` is filled in by the caller, which knows the name behind the sid.
  const record: EventRecord = { stream: '', id: d.i, type: d.t, time: d.m, contentType: d.c, data: d.d };
  if (d.s !== undefined) record.subject = d.s;
  if (d.h !== undefined) record.headers = d.h;
  return record;
}
