import type { ServerResponse } from 'node:http';
import type { LiveMetrics } from '../../delivery/liveMetrics.js';
import { IdTracker } from '../../sources/idTracker.js';
import type { PostgresListenSource } from '../../sources/postgresListen.js';
import { HEARTBEAT_FRAME, eventFrame } from './wire.js';

export interface SessionOptions {
  heartbeatMs: number;
  /** A client with more than this queued is disconnected. */
  maxBufferedBytes: number;
  /** Live rows held while a replay runs; past this the session is closed (the client resumes). */
  maxHeldRows: number;
  metrics: LiveMetrics;
}

/** Ids below the highest replayed one that a session still expects (late commits), at most. */
const SEAM_HOLES = 256;

/**
 * One `GET /events` stream of one consumer. It is subscribed to live rows before its replay
 * starts (as the original); live rows arriving during the replay are held, and those the replay
 * did not itself send go out after it, so the seam repeats nothing and loses nothing (the
 * original sent them twice). The heartbeat fires after `heartbeatMs` without an event.
 *
 * The seam has two more edges. A row's notification can arrive after the replay has already
 * read and sent the row (the replay's query runs on another connection): the ids the replay
 * sent are kept (an IdTracker), and a live row among them is dropped. And the replay waits for
 * the source to be listening: a source that has just started (a restarted node) passes on only
 * rows committed after its start, so a replay that read the table before that start would miss
 * the rows committed in between.
 */
export class EventPiperSession {
  private replaying = false;
  private readonly held = new Map<number, Buffer>();
  /** The rows sent since a replay began (ids above `replayedFrom`); undefined without a replay. */
  private sent: IdTracker | undefined;
  private replayedFrom = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly consumer: string,
    private readonly res: ServerResponse,
    private readonly options: SessionOptions,
  ) {}

  /** Status and headers at once, as the original (which also never ends the stream itself). */
  open(): void {
    this.res.socket?.setTimeout(0);
    this.res.socket?.setNoDelay(true);
    this.res.writeHead(200, { 'cache-control': 'no-cache', 'content-type': 'text/event-stream' });
    this.res.flushHeaders();
  }

  /** Replays the consumer's rows after `after` (when given), then starts the heartbeat. */
  async replay(source: PostgresListenSource, after: number | undefined): Promise<void> {
    if (after !== undefined) {
      this.replaying = true;
      this.replayedFrom = after;
      this.sent = new IdTracker(after, SEAM_HOLES);
      await source.ready;
      if (this.closed) return;
      const abort = new AbortController();
      this.res.once('close', () => abort.abort());
      for await (const page of source.replay(this.consumer, after, abort.signal)) {
        for (const row of page) {
          this.held.delete(row.id);
          if (!this.unsent(row.id)) continue;
          if (!this.write(Buffer.from(eventFrame(row), 'utf8'))) await this.drained();
          if (this.closed) return;
        }
      }
      this.replaying = false;
      for (const [id, frame] of this.held) if (this.unsent(id)) this.write(frame);
      this.held.clear();
    }
    if (this.closed) return;
    this.timer = setTimeout(() => this.heartbeat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /** A live row of this consumer (its frame is shared by every session of the consumer). */
  live(id: number, frame: Buffer): void {
    if (this.closed) return;
    if (this.replaying) {
      this.held.set(id, frame);
      if (this.held.size > this.options.maxHeldRows) this.close(true);
      return;
    }
    if (!this.unsent(id)) return;
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      this.options.metrics.slowDisconnects.inc({ protocol: 'eventpiper' });
      this.close(true);
      return;
    }
    this.write(frame);
  }

  /** True for a row this session has not sent yet (and records it as sent). */
  private unsent(id: number): boolean {
    return this.sent === undefined || id <= this.replayedFrom || this.sent.accept(id);
  }

  /** Ends the stream: abruptly (a slow client, a failed replay) or gracefully (shutdown). */
  close(abrupt: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (abrupt) this.res.destroy();
    else this.res.end();
  }

  /** The client went away. */
  gone(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private write(frame: Buffer): boolean {
    this.options.metrics.countDeliveries('eventpiper', 1);
    this.timer?.refresh();
    return this.res.write(frame);
  }

  private heartbeat(): void {
    if (this.closed) return;
    this.res.write(HEARTBEAT_FRAME);
    this.timer?.refresh();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}
