import type { EventInput, StoredEvent } from '../../core/event.js';
import type { Hub } from '../../core/hub.js';
import type { Logger } from '../../observability/logger.js';
import type { RetentionPolicy, StreamInfo } from '../../store/types.js';
import type { EventbusConfig } from '../../config/sections/eventbus.js';
import { toFailure, type Outcome } from './errors.js';
import { heraldStreamName, streamUuid } from './names.js';
import { renderEvent, renderStream } from './render.js';
import { failure, notFoundEvent, notFoundStream, ok, okWithBody } from './replies.js';
import { StatusBook, type Status, type StreamStatuses } from './statuses.js';

/** A reply line and how it is counted in metrics. */
export interface Result {
  reply: string;
  outcome: Outcome;
}

export interface WriteItem {
  streamName: string;
  /** Compacted JSON text; undefined stores `null`, as the original does. */
  event: Uint8Array | undefined;
}

const NULL_EVENT = new Uint8Array(Buffer.from('null'));
const EVENT_CONTENT_TYPE = 'application/json';
const READ_PAGE = 1000;
const MAX_NAME = 200;

const done = (reply: string): Result => ({ reply, outcome: 'ok' });
const WRITE_OK: Result = done(ok('write_event'));

/**
 * The event-bus operations on Herald's hub (compat.md §3, docs/eventbus.md): a stream is a
 * Herald stream, an event a Herald event, and each event's status lives in the StatusBook.
 * Every method resolves with the reply line; none rejects.
 */
export class Operations {
  /** Marks run their look-ups and apply one at a time, in arrival order (see markEvent). */
  private markChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly hub: Hub,
    private readonly config: EventbusConfig,
    private readonly defaultRetention: RetentionPolicy,
    readonly book: StatusBook,
    private readonly log: Logger,
  ) {}

  async createStream(name: string): Promise<Result> {
    const stored = heraldStreamName(name);
    if (stored.length > MAX_NAME) {
      return { reply: failure('create_stream', `stream name '${name}' is too long: Herald keeps it as ${JSON.stringify(stored.slice(0, 40))}… (${stored.length} characters, at most ${MAX_NAME}; each byte outside letters, digits and _ . : - counts 3)`), outcome: 'invalid' };
    }
    try {
      const info = await this.hub.createStream(stored, { retention: this.retentionFor(name) });
      return done(okWithBody('create_stream', `{"stream":${renderStream(info)}}`));
    } catch (err) {
      return this.fail('create_stream', err, { stream: name });
    }
  }

  async deleteStream(name: string): Promise<Result> {
    const info = await this.stream(name);
    if (!info) return this.notFound('delete_stream', name);
    try {
      if (!(await this.hub.deleteStream(info.name))) return this.notFound('delete_stream', name);
      await this.book.forget(streamUuid(info.name, info.created));
      return done(ok('delete_stream'));
    } catch (err) {
      return this.fail('delete_stream', err, { stream: name });
    }
  }

  async getStreamInfo(name: string): Promise<Result> {
    const info = await this.stream(name);
    if (!info) return this.notFound('get_stream_info', name);
    return done(okWithBody('get_stream_info', `{"stream":${renderStream(info)}}`));
  }

  /** Every stored, unexpired event of the stream with its status, oldest first. */
  getStreamEvents(name: string): Promise<Result> {
    return this.listEvents('get_stream_events', name, async (info, state, emit) => {
      await this.scan(info, info.firstSeq - 1, (e) => emit(e, state.status(e.seq)));
    });
  }

  /**
   * Events with status 0, oldest first: the explicit 0s at or below the watermark, then the
   * log after the watermark minus the events marked 1 or 2 there (docs/eventbus.md).
   */
  processEvents(name: string): Promise<Result> {
    return this.listEvents('process_events', name, async (info, state, emit) => {
      const reopened = state.explicit(0);
      if (reopened.length > 0 && !(await this.readSeqs(info, reopened, (e) => emit(e, 0)))) return;
      await this.scan(info, Math.max(state.watermark, info.firstSeq - 1), (e) => (state.marks.has(e.seq) ? true : emit(e, 0)));
    });
  }

  /** Events with status 2, oldest first. */
  retryEvents(name: string): Promise<Result> {
    return this.listEvents('retry_events', name, async (info, state, emit) => {
      await this.readSeqs(info, state.explicit(2), (e) => emit(e, 2));
    });
  }

  /**
   * Sets an event's status. Marks are applied one at a time, in arrival order (the look-ups of
   * several marks run at once, but each is applied after the previous one), so marks arriving on
   * any connections apply in arrival order and the durable state is the last one applied. The
   * reply waits for durability, not the chain.
   */
  markEvent(eventId: string, status: Status): Promise<Result> {
    const found = this.findEvent(eventId);
    found.catch(() => undefined); // handled when its turn comes
    const applied = this.markChain.then(() => this.applyMark(eventId, found, status));
    this.markChain = applied.catch(() => undefined);
    return applied.then(
      ({ result, durable }) => (durable ? durable.then(() => result, (err: unknown) => this.fail('mark_event', err, { eventId })) : result),
      (err: unknown) => this.fail('mark_event', err, { eventId }),
    );
  }

  /** The stream incarnation and seq of a stored event, if it is still stored. */
  private async findEvent(eventId: string): Promise<{ streamId: string; firstSeq: number; seq: number } | undefined> {
    const where = await this.hub.store.lookupId(eventId);
    if (!where) return undefined;
    const info = await this.hub.getStream(where.stream);
    if (!info || where.seq < info.firstSeq) return undefined;
    return { streamId: streamUuid(info.name, info.created), firstSeq: info.firstSeq, seq: where.seq };
  }

  private async applyMark(eventId: string, found: ReturnType<Operations['findEvent']>, status: Status): Promise<{ result: Result; durable?: Promise<void> }> {
    const event = await found;
    if (!event) return { result: { reply: failure('mark_event', notFoundEvent(eventId)), outcome: 'not_found' } };
    const { durable } = await this.book.mark(event.streamId, event.firstSeq, event.seq, status);
    return { result: done(ok('mark_event')), durable };
  }

  /**
   * Appends the events of several write_event requests in one commit; resolves with one result
   * per item, in order. Should the batch fail (a stream missing), each item is retried alone so
   * that only the failing ones are refused: a batch commits all or nothing.
   */
  async writeEvents(items: readonly WriteItem[]): Promise<Result[]> {
    const inputs: EventInput[] = items.map((item) => ({ stream: heraldStreamName(item.streamName), contentType: EVENT_CONTENT_TYPE, data: item.event ?? NULL_EVENT }));
    try {
      await this.hub.publishBatch(inputs, { createStreams: false });
      return items.map(() => WRITE_OK);
    } catch (err) {
      if (items.length === 1) return [this.fail('write_event', err, { stream: items[0]!.streamName })];
    }
    return Promise.all(
      inputs.map((input, i) =>
        this.hub.publish(input, { createStreams: false }).then(
          () => WRITE_OK,
          (err: unknown) => this.fail('write_event', err, { stream: items[i]!.streamName }),
        ),
      ),
    );
  }

  /** The retention of a stream made by create_stream: the hub's default with the event-bus expiry. */
  private retentionFor(name: string): RetentionPolicy {
    const expiry = this.config.streamExpiryMs[name] ?? this.config.expiryMs;
    const { maxAgeMs: _ignored, ...rest } = this.defaultRetention;
    return expiry > 0 ? { ...rest, maxAgeMs: expiry } : rest;
  }

  private async stream(name: string): Promise<StreamInfo | undefined> {
    const stored = heraldStreamName(name);
    return stored.length > MAX_NAME ? undefined : this.hub.getStream(stored);
  }

  /**
   * A list reply: `fill` emits events with their status until `emit` returns false (the reply
   * limit). Expired events (past the stream's maxAgeMs, not yet removed by retention) are left out.
   */
  private async listEvents(
    operation: string,
    name: string,
    fill: (info: StreamInfo, state: StreamStatuses, emit: (e: StoredEvent, status: Status) => boolean) => Promise<void>,
  ): Promise<Result> {
    try {
      const info = await this.stream(name);
      if (!info) return this.notFound(operation, name);
      const state = await this.book.load(streamUuid(info.name, info.created), info.firstSeq);
      const streamId = state.streamId;
      const cutoff = info.retention.maxAgeMs === undefined ? '' : new Date(Date.now() - info.retention.maxAgeMs).toISOString();
      const limit = this.config.maxEventsPerReply;
      const parts: string[] = [];
      await fill(info, state, (e, status) => {
        if (e.time >= cutoff) parts.push(renderEvent(e, streamId, status));
        return parts.length < limit;
      });
      return done(okWithBody(operation, `{"events":[${parts.join(',')}]}`));
    } catch (err) {
      return this.fail(operation, err, { stream: name });
    }
  }

  /** Calls `visit` for each stored event after `after` until it returns false or the log ends. */
  private async scan(info: StreamInfo, after: number, visit: (e: StoredEvent) => boolean): Promise<boolean> {
    for (;;) {
      const page = await this.hub.read(info.name, { after, limit: READ_PAGE });
      for (const e of page) if (!visit(e)) return false;
      if (page.length < READ_PAGE) return true;
      after = page[page.length - 1]!.seq;
    }
  }

  /** Calls `visit` for the stored events with the given ascending seqs (runs read together). */
  private async readSeqs(info: StreamInfo, seqs: readonly number[], visit: (e: StoredEvent) => boolean): Promise<boolean> {
    let i = 0;
    while (i < seqs.length) {
      let j = i + 1;
      while (j < seqs.length && seqs[j] === seqs[j - 1]! + 1 && j - i < READ_PAGE) j++;
      const last = seqs[j - 1]!;
      // An event removed by retention shortens the run: never visit one past its end.
      for (const e of await this.hub.read(info.name, { after: seqs[i]! - 1, limit: j - i })) if (e.seq <= last && !visit(e)) return false;
      i = j;
    }
    return true;
  }

  private notFound(operation: string, name: string): Result {
    return { reply: failure(operation, notFoundStream(name)), outcome: 'not_found' };
  }

  private fail(operation: string, err: unknown, subject: { stream?: string; eventId?: string }): Result {
    const { reason, outcome } = toFailure(err, subject, this.log);
    return { reply: failure(operation, reason), outcome };
  }
}
