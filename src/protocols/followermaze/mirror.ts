import type { EventInput } from '../../core/event.js';
import type { Hub } from '../../core/hub.js';
import type { Logger } from '../../observability/logger.js';
import type { MazeObserver } from './maze.js';
import { BROADCAST, FOLLOW, PRIVATE, STATUS, UNFOLLOW } from './parser.js';
import { RateLimitedLog } from './rateLimitedLog.js';
import type { SourceGate } from './sourceGate.js';

const TYPE_NAMES: Record<number, string> = { [FOLLOW]: 'follow', [UNFOLLOW]: 'unfollow', [BROADCAST]: 'broadcast', [PRIVATE]: 'private', [STATUS]: 'status' };

/**
 * `followermaze.stream`: every dispatched event is also appended to a Herald stream, in sequence
 * order, so other protocols can observe the maze. Events are appended with `publishBatch` in
 * chunks of `batchSize` (and at the end of every turn); while `maxInFlight` chunks wait for their
 * commit, the sources are paused, so a store slower than the maze slows the maze down rather than
 * filling the heap.
 *
 * Each event: type `follow` | `unfollow` | `broadcast` | `private` | `status`, subject the from
 * user id (none for broadcasts), content type text/plain, payload the line as received.
 */
export class StreamMirror implements MazeObserver {
  private batch: EventInput[] = [];
  private inFlight = 0;
  private holding = false;
  private idle: Array<() => void> = [];
  private readonly failures: RateLimitedLog;
  /** Events that could not be appended. */
  failed = 0;
  /** Events appended. */
  appended = 0;

  constructor(
    private readonly hub: Hub,
    readonly stream: string,
    private readonly batchSize: number,
    private readonly maxInFlight: number,
    private readonly gate: SourceGate,
    logger: Logger,
  ) {
    this.failures = new RateLimitedLog(logger, 'warn', 1000);
  }

  event(_seq: number, type: number, from: number, _to: number, line: Uint8Array, start: number, end: number): void {
    const event: EventInput = {
      stream: this.stream,
      type: TYPE_NAMES[type]!,
      contentType: 'text/plain',
      data: Uint8Array.prototype.slice.call(line, start, end),
    };
    if (type !== BROADCAST) event.subject = String(from);
    this.batch.push(event);
    if (this.batch.length >= this.batchSize) this.send();
  }

  flush(): void {
    if (this.batch.length > 0) this.send();
  }

  /** Resolves once every event handed over so far is appended (or failed). */
  async drain(): Promise<void> {
    this.flush();
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private send(): void {
    const events = this.batch;
    this.batch = [];
    this.inFlight++;
    if (this.inFlight >= this.maxInFlight && !this.holding) {
      this.holding = true;
      this.gate.hold();
    }
    this.hub.publishBatch(events, { createStreams: true }).then(
      () => {
        this.appended += events.length;
        this.settled();
      },
      (err: unknown) => {
        this.failed += events.length;
        this.failures.log({ err, stream: this.stream, events: events.length }, `appending follower-maze events to stream ${this.stream} failed`);
        this.settled();
      },
    );
  }

  private settled(): void {
    this.inFlight--;
    if (this.holding && this.inFlight < this.maxInFlight) {
      this.holding = false;
      this.gate.release();
    }
    if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
