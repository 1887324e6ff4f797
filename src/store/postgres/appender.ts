import type { AppendResult } from '../../core/event.js';
import { HeraldError } from '../../core/errors.js';
import { newEventId } from '../../core/ids.js';
import type { EventRecord } from '../record.js';
import { pgArray, type Db } from './clients.js';
import { isConnectionError, isRetryable, unavailable } from './errors.js';
import type { SchemaNames } from './schema.js';

/** One `append` call waiting for its batch. */
interface PendingAppend {
  records: EventRecord[];
  createStreams: boolean;
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
}

/** A stream a committed batch grew: its id and its new head. */
export interface GrownStream {
  name: string;
  sid: number;
  head: number;
}

export interface AppenderHooks {
  /** After a batch committed, with the streams it grew (before its callers are answered). */
  committed(grown: GrownStream[], events: number, seconds: number): void;
  /** A batch failed because the database could not be reached. */
  connectionLost(err: unknown): void;
}

/** A batch stops growing past this many events (one call is never split: it is atomic). */
const MAX_BATCH_EVENTS = 5000;
/**
 * PostgreSQL runs the batches of one connection one after another, each paying a commit (a WAL
 * flush). So a second batch is sent while one is running only when it is big: small appends
 * wait and join the next batch, which keeps the number of commits down under many small
 * publishers, while bulk ingest still overlaps building one batch with committing another.
 */
const MAX_BATCHES_IN_FLIGHT = 2;
const PIPELINE_MIN_EVENTS = MAX_BATCH_EVENTS / 2;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Attempts for a batch the server aborted (deadlock, id race, restarted server). */
const MAX_ATTEMPTS = 5;

/** One row of the append function's answer (see schema.ts). */
interface AnswerRow {
  o_kind: string;
  o_ord: number | null;
  o_sid: number | null;
  o_seq: number | null;
  o_head: number | null;
  o_name: string | null;
}

/**
 * Group commit for the postgres store: every append call of one event-loop turn goes into one
 * call of the schema's `append` function, which is one round trip and one transaction, however
 * many callers and events it carries. Calls that arrive while a batch commits queue
 * and form the next batch, so under load batches grow instead of multiplying.
 *
 * Seqs are assigned by the database under the stream's row lock, never here: a failed batch
 * leaves nothing to undo, and nodes sharing the database can never hand out the same seq.
 */
export class Appender {
  private queue: PendingAppend[] = [];
  /** Events in the queue. */
  private queued = 0;
  private scheduled = false;
  private inFlight = 0;
  private idle: Array<() => void> = [];
  private readonly query: string;

  constructor(
    private readonly clients: { readonly writer: Db },
    names: SchemaNames,
    /** Retention policy (JSON) given to streams this store creates on publish. */
    private readonly defaultRetention: string,
    private readonly hooks: AppenderHooks,
  ) {
    this.query = `SELECT o_kind, o_ord, o_sid, o_seq, o_head, o_name FROM ${names.t('append')}(`
      + '$1::text[], $2::text[], $3::boolean[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[], $12::bytea, $13::text)';
  }

  /** The current client (replaced after the database was lost). */
  private get db(): Db {
    return this.clients.writer;
  }

  append(records: EventRecord[], createStreams: boolean): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ records, createStreams, resolve, reject });
      this.queued += records.length;
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= MAX_BATCHES_IN_FLIGHT) return;
    if (this.inFlight > 0 && this.queued < PIPELINE_MIN_EVENTS) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.queue.length === 0) return this.checkIdle();
    let events = 0;
    let bytes = 0;
    let take = 0;
    while (take < this.queue.length) {
      const op = this.queue[take]!;
      const opBytes = op.records.reduce((sum, r) => sum + r.data.byteLength, 0);
      if (take > 0 && (events + op.records.length > MAX_BATCH_EVENTS || bytes + opBytes > MAX_BATCH_BYTES)) break;
      events += op.records.length;
      bytes += opBytes;
      take++;
    }
    const ops = this.queue.splice(0, take);
    this.queued -= events;
    this.inFlight++;
    void this.run(ops).finally(() => {
      this.inFlight--;
      this.schedule();
      this.checkIdle();
    });
    this.schedule();
  }

  private checkIdle(): void {
    if (this.queue.length > 0 || this.inFlight > 0 || this.scheduled) return;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }

  /** Sends one batch (again, if the server aborted it), then answers its callers. */
  private async run(ops: PendingAppend[]): Promise<void> {
    const started = performance.now();
    const params = this.params(ops);
    let rows: AnswerRow[] | undefined;
    for (let attempt = 1; rows === undefined; attempt++) {
      try {
        rows = (await this.db.unsafe(this.query, params as never[], { prepare: true })) as unknown as AnswerRow[];
      } catch (err) {
        if (isRetryable(err) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, 5 * attempt));
          continue;
        }
        if (isConnectionError(err)) this.hooks.connectionLost(err);
        const failure = unavailable(err);
        for (const op of ops) op.reject(failure);
        return;
      }
    }
    this.answer(ops, rows, (performance.now() - started) / 1000);
  }

  /**
   * The function's arguments: parallel arrays, one element per event (one element in all when
   * every event has the same value), and the payloads as one blob with their lengths. Ids are
   * minted here.
   */
  private params(ops: PendingAppend[]): Array<string | Buffer> {
    const streams = new Column<string>();
    const ids: string[] = [];
    const check = new Column<boolean>();
    const opOf = new Column<number>();
    const noCreate: number[] = [];
    const types = new Column<string>();
    const times = new Column<string>();
    const subjects = new Column<string>();
    const contentTypes = new Column<string>();
    const headers = new Column<string>();
    const lengths: number[] = [];
    const data: Uint8Array[] = [];
    ops.forEach((op, i) => {
      if (!op.createStreams) noCreate.push(i);
      for (const r of op.records) {
        // A freshly minted id cannot be stored yet: only producer-chosen ids are looked up.
        const minted = r.id === '';
        if (minted) r.id = newEventId();
        streams.push(r.stream);
        ids.push(r.id);
        check.push(!minted);
        opOf.push(i);
        types.push(r.type);
        times.push(r.time);
        subjects.push(r.subject ?? '');
        contentTypes.push(r.contentType);
        headers.push(r.headers ? JSON.stringify(r.headers) : '');
        lengths.push(r.data.byteLength);
        data.push(r.data);
      }
    });
    const text = (c: Column<string>): string => pgArray.text(c.values());
    return [
      text(streams), pgArray.text(ids), pgArray.bool(check.values()), pgArray.int(opOf.values()), pgArray.int(noCreate),
      text(types), text(times), text(subjects), text(contentTypes), text(headers),
      pgArray.int(lengths), Buffer.concat(data), this.defaultRetention,
    ];
  }

  /** Derives every event's seq from the answer (see schema.ts) and answers the callers. */
  private answer(ops: PendingAppend[], rows: AnswerRow[], seconds: number): void {
    const next = new Map<string, number>();
    const grown: GrownStream[] = [];
    const duplicates = new Map<number, { stream: string; seq: number }>();
    const failed = new Set<number>();
    for (const row of rows) {
      if (row.o_kind === 's') {
        next.set(row.o_name!, row.o_seq!);
        if (row.o_head! > row.o_seq!) grown.push({ name: row.o_name!, sid: row.o_sid!, head: row.o_head! });
      } else if (row.o_kind === 'd') {
        duplicates.set(row.o_ord!, { stream: row.o_name!, seq: row.o_seq! });
      } else if (row.o_kind === 'f') {
        failed.add(row.o_ord!);
      }
    }
    let stored = 0;
    let ord = 0;
    const outcomes = ops.map((op, i): AppendResult[] | HeraldError => {
      if (failed.has(i)) {
        ord += op.records.length;
        const missing = op.records.find((r) => !next.has(r.stream))?.stream ?? op.records[0]!.stream;
        return new HeraldError('stream_not_found', `stream ${JSON.stringify(missing)} does not exist (creating streams on publish is off)`, { stream: missing });
      }
      return op.records.map((r) => {
        ord++;
        const dup = duplicates.get(ord);
        if (dup) return { stream: dup.stream, seq: dup.seq, id: r.id, duplicate: true };
        const seq = next.get(r.stream)! + 1;
        next.set(r.stream, seq);
        stored++;
        return { stream: r.stream, seq, id: r.id, duplicate: false };
      });
    });
    this.hooks.committed(grown, stored, seconds);
    ops.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof HeraldError) op.reject(outcome);
      else op.resolve(outcome);
    });
  }
}

/**
 * The values of one argument column: all of them, or just one when every event has the same
 * value (the append function then repeats it).
 */
class Column<T> {
  private readonly all: T[] = [];
  private uniform = true;

  push(value: T): void {
    if (this.uniform && this.all.length > 0 && this.all[0] !== value) this.uniform = false;
    this.all.push(value);
  }

  values(): T[] {
    return this.uniform ? this.all.slice(0, 1) : this.all;
  }
}
