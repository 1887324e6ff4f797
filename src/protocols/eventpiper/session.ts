import type { ServerResponse } from 'node:http';
import type { LiveMetrics } from '../../delivery/liveMetrics.js';
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

/**
 * One `GET /events` stream of one consumer. It is subscribed to live rows before its replay
 * starts (as the original); live rows arriving during the replay are held, and those the replay
 * did not itself send go out after it, so the seam repeats nothing and loses nothing (the
 * original sent them twice). The heartbeat fires after `heartbeatMs` without an event.
 */
export class EventPiperSession {
  private replaying = false;
  private readonly held = new Map<number, Buffer>();
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
      const abort = new AbortController();
      this.res.once('close', () => abort.abort());
      for await (const page of source.replay(this.consumer, after, abort.signal)) {
        for (const row of page) {
          this.held.delete(row.id);
          if (!this.write(Buffer.from(eventFrame(row), 'utf8'))) await this.drained();
          if (this.closed) return;
        }
      }
      this.replaying = false;
      for (const frame of this.held.values()) this.write(frame);
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
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      this.options.metrics.slowDisconnects.inc({ protocol: 'eventpiper' });
      this.close(true);
      return;
    }
    this.write(frame);
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
