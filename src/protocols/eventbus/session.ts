import type { Socket } from 'node:net';
import type { Logger } from '../../observability/logger.js';
import type { Outcome } from './errors.js';
import type { Operations, Result, WriteItem } from './operations.js';
import { DECODE_OPERATION, failure } from './replies.js';
import type { AuthMemo, Job, Router } from './router.js';

export interface SessionLimits {
  maxLineBytes: number;
  maxPipelined: number;
  lineTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveMs: number;
}

/** A reply position: filled when its request is done, written once every earlier one is. */
interface Slot {
  operation: string;
  result: Result | undefined;
  close: boolean;
}

type Deferred = Extract<Job, { kind: 'mark' | 'barrier' }>;

/** Socket buffer above which reading pauses until the client takes its replies. */
const WRITE_HIGH_WATER = 1024 * 1024;

/**
 * One connection: splits the byte stream into lines (a line may arrive in pieces or many in one
 * packet), runs each request, and writes exactly one reply per request in request order, also
 * when the client pipelines. Consecutive write_event requests of a read are appended in one
 * store call, so they share a commit (docs/eventbus.md "Pipelining").
 *
 * Bounded memory: a line is at most `maxLineBytes` (longer: an error reply and a clean close);
 * at most about `maxPipelined` requests are held before reading pauses, and reading also pauses
 * while the client leaves more than 1 MiB of replies unread.
 */
export class Session {
  private readonly memo: AuthMemo = {};
  private pieces: Buffer[] = [];
  private partialBytes = 0;
  private readonly slots: Slot[] = [];
  private head = 0;
  private readonly waiting: Array<{ job: Deferred; slot: Slot }> = [];
  /** write_event requests gathered from the current read, and their reply slots. */
  private writeItems: WriteItem[] = [];
  private writeSlots: Slot[] = [];
  private running = 0;
  private barrierRunning = false;
  /** No more requests are read (exit, a fatal line error, the client's end, shutdown). */
  private inputClosed = false;
  private pausedForBackpressure = false;
  private lineTimer: NodeJS.Timeout | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly router: Router,
    private readonly ops: Operations,
    private readonly limits: SessionLimits,
    private readonly log: Logger,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    if (limits.keepAliveMs > 0) socket.setKeepAlive(true, limits.keepAliveMs);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs);
      socket.on('timeout', () => this.onIdle());
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => {
      this.log.debug({ err }, 'event-bus connection error');
      this.dispose();
    });
    socket.once('close', () => this.dispose());
  }

  /** Stops reading; answers what was already read, then closes. Resolves once closed. */
  shutdown(): Promise<void> {
    this.closeInput();
    this.finishIfDone();
    return this.closed;
  }

  /** Closes at once (the listener's last resort when draining takes too long). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.inputClosed) return;
    let start = 0;
    if (this.partialBytes > 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.addPartial(chunk);
        this.afterInput();
        return;
      }
      this.pieces.push(chunk.subarray(0, nl));
      const line = Buffer.concat(this.pieces, this.partialBytes + nl);
      this.clearPartial();
      this.handleLine(line, 0, line.length);
      start = nl + 1;
    }
    while (!this.inputClosed) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      this.handleLine(chunk, start, nl);
      start = nl + 1;
    }
    // The rest is copied: a view would keep the whole 64 KiB read buffer alive.
    if (!this.inputClosed && start < chunk.length) this.addPartial(Buffer.from(chunk.subarray(start)));
    this.afterInput();
  }

  /** The client closed its side: a last line without a newline still counts (as in Go's scanner). */
  private onEnd(): void {
    if (!this.inputClosed && this.partialBytes > 0) {
      const line = Buffer.concat(this.pieces, this.partialBytes);
      this.clearPartial();
      this.handleLine(line, 0, line.length);
    }
    this.closeInput();
    this.afterInput();
  }

  private addPartial(piece: Buffer): void {
    if (this.partialBytes === 0 && this.limits.lineTimeoutMs > 0) {
      this.lineTimer = setTimeout(() => this.fatal(`request line not completed within ${this.limits.lineTimeoutMs} ms; closing the connection`), this.limits.lineTimeoutMs);
      this.lineTimer.unref();
    }
    this.pieces.push(piece);
    this.partialBytes += piece.length;
    if (this.partialBytes > this.limits.maxLineBytes) this.fatal(this.tooLong());
  }

  private clearPartial(): void {
    this.pieces = [];
    this.partialBytes = 0;
    clearTimeout(this.lineTimer);
    this.lineTimer = undefined;
  }

  private tooLong(): string {
    return `request line longer than ${this.limits.maxLineBytes} bytes (eventbus.maxLineBytes); closing the connection`;
  }

  private handleLine(b: Buffer, start: number, end: number): void {
    if (end > start && b[end - 1] === 0x0d) end--;
    if (end === start) return; // empty lines get no reply, as in the original
    if (end - start > this.limits.maxLineBytes) return this.fatal(this.tooLong());
    const job = this.router.route(b, start, end, this.memo);
    if (job.kind === 'reply') {
      this.slots.push({ operation: job.operation, result: job.result, close: job.close === true });
      if (job.close) this.closeInput();
      return;
    }
    const slot: Slot = { operation: job.kind === 'write' ? 'write_event' : job.operation, result: undefined, close: false };
    this.slots.push(slot);
    if (job.kind === 'write') {
      if (this.waiting.length === 0 && !this.barrierRunning) this.startWrite(job.item, slot);
      else this.waiting.push({ job: { kind: 'mark', operation: 'write_event', run: () => this.deferredWrite(job.item) }, slot });
      return;
    }
    if (this.waiting.length === 0 && this.canStart(job)) this.start(job, slot);
    else this.waiting.push({ job, slot });
  }

  /** A request that could not run at once (it followed a barrier) and now may. */
  private deferredWrite(item: WriteItem): Promise<Result> {
    return this.ops.writeEvents([item]).then((results) => results[0]!);
  }

  private canStart(job: Deferred): boolean {
    return job.kind === 'barrier' ? this.running === 0 : !this.barrierRunning;
  }

  private start(job: Deferred, slot: Slot): void {
    this.running++;
    if (job.kind === 'barrier') this.barrierRunning = true;
    // Operations answer their own failures; a rejection here would be a bug, still answered.
    job.run().then(
      (result) => this.complete(slot, result, job.kind === 'barrier'),
      (err: unknown) => {
        this.log.error({ err, operation: job.operation }, 'event-bus operation failed');
        this.complete(slot, { reply: failure(job.operation, 'internal error'), outcome: 'error' }, job.kind === 'barrier');
      },
    );
  }

  private startWrite(item: WriteItem, slot: Slot): void {
    this.running++;
    this.writeItems.push(item);
    this.writeSlots.push(slot);
  }

  /** Appends the writes gathered from this read in one store call. */
  private flushWrites(): void {
    if (this.writeItems.length === 0) return;
    const items = this.writeItems;
    const slots = this.writeSlots;
    this.writeItems = [];
    this.writeSlots = [];
    this.ops.writeEvents(items).then(
      (results) => {
        for (let i = 0; i < slots.length; i++) this.done(slots[i]!, results[i]!);
        this.afterCompletion();
      },
      (err: unknown) => {
        this.log.error({ err }, 'event-bus write failed');
        for (const slot of slots) this.done(slot, { reply: failure('write_event', 'internal error'), outcome: 'error' });
        this.afterCompletion();
      },
    );
  }

  private complete(slot: Slot, result: Result, barrier: boolean): void {
    if (barrier) this.barrierRunning = false;
    this.done(slot, result);
    this.afterCompletion();
  }

  private done(slot: Slot, result: Result): void {
    slot.result = result;
    this.running--;
  }

  private afterCompletion(): void {
    this.pump();
    this.flushWrites();
    this.flushReplies();
  }

  private afterInput(): void {
    this.flushWrites();
    this.flushReplies();
    if (!this.pausedForBackpressure && !this.ended && this.slots.length - this.head >= this.limits.maxPipelined) {
      this.pausedForBackpressure = true;
      this.socket.pause();
    }
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.canStart(this.waiting[0]!.job)) {
      const { job, slot } = this.waiting.shift()!;
      this.start(job, slot);
    }
  }

  /** Writes every reply whose turn has come, in one socket write. */
  private flushReplies(): void {
    let out = '';
    let close = false;
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head]!;
      if (slot.result === undefined) break;
      out += slot.result.reply;
      this.router.metrics.request(slot.operation, slot.result.outcome);
      this.head++;
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    if (out !== '' && !this.ended) this.socket.write(out);
    if (close) this.closeInput();
    this.finishIfDone();
    this.maybeResume();
  }

  private maybeResume(): void {
    if (!this.pausedForBackpressure || this.ended || this.inputClosed) return;
    if (this.slots.length - this.head > this.limits.maxPipelined / 2 || this.socket.writableLength > WRITE_HIGH_WATER) return;
    this.pausedForBackpressure = false;
    this.socket.resume();
  }

  /** A line the connection cannot recover from: its error reply (after earlier ones), then close. */
  private fatal(reason: string): void {
    if (this.inputClosed) return;
    this.slots.push({ operation: DECODE_OPERATION, result: { reply: failure(DECODE_OPERATION, reason), outcome: 'invalid' as Outcome }, close: true });
    this.closeInput();
    this.afterInput();
  }

  private closeInput(): void {
    if (this.inputClosed) return;
    this.inputClosed = true;
    this.clearPartial();
    // Requests waiting behind a barrier still run; later input is dropped unread.
    this.socket.pause();
  }

  /** Once input is closed and every request read is answered, the connection ends. */
  private finishIfDone(): void {
    if (!this.inputClosed || this.ended || this.head < this.slots.length || this.running > 0 || this.waiting.length > 0) return;
    this.ended = true;
    this.socket.end();
    // Keep reading (and dropping) input, so the client's own end arrives and the socket closes.
    this.socket.resume();
    // A peer that never reads or acknowledges cannot hold the socket open after the end.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private onIdle(): void {
    if (this.running > 0 || this.waiting.length > 0) return;
    this.log.debug('closing an idle event-bus connection');
    this.socket.destroy();
  }

  private dispose(): void {
    clearTimeout(this.lineTimer);
    this.ended = true;
  }
}
