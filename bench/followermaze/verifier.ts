import { connect, type Socket } from 'node:net';
import { B, S } from './model.js';

/**
 * One harness user client: connects, sends its user id, and checks every line it receives
 * against the notifications it expects, in order, exactly. Expectations wait in a ring of
 * (seq, type, from, to) that the generator fills; the harness bounds the total waiting across
 * clients, so the harness's memory does not grow with the number of events.
 */

const STRIDE = 4;

export class VerifyingClient {
  socket: Socket | undefined;
  /** Notifications verified. */
  received = 0;
  /** The first mismatch, if any. */
  failure: string | undefined;
  /** False once it left (or was replaced): it then expects nothing. */
  active = true;
  /** Leave after verifying this many notifications (Infinity: stay). */
  leaveAfter = Infinity;

  private ring = new Int32Array(1024 * STRIDE);
  private head = 0;
  private size = 0;
  private carry: Buffer | undefined;

  constructor(
    readonly index: number,
    readonly user: number,
    /** Whether received lines are checked (false against a discarding server). */
    private readonly verify: boolean,
    private readonly events: ClientEvents,
  ) {}

  /** Connects and sends the registration line. */
  connect(host: string, port: number, lineEnding: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.write(`${this.user}${lineEnding}`);
        resolve();
      });
      socket.setNoDelay(true);
      socket.on('error', (err) => {
        if (this.active && this.failure === undefined && this.size > 0) this.fail(`socket error: ${err.message}`);
        reject(err);
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket = socket;
    });
  }

  /** Notifications expected but not received yet. */
  get pending(): number {
    return this.size;
  }

  /** Adds an expected notification. */
  expect(seq: number, type: number, from: number, to: number): void {
    if (this.size * STRIDE === this.ring.length) this.grow();
    let at = ((this.head + this.size) * STRIDE) % this.ring.length;
    const ring = this.ring;
    ring[at++] = seq;
    ring[at++] = type;
    ring[at++] = from;
    ring[at] = to;
    this.size++;
  }

  /** Stops expecting (it left or was replaced); returns how many expectations were dropped. */
  deactivate(): number {
    this.active = false;
    const dropped = this.size;
    this.size = 0;
    return dropped;
  }

  private onData(chunk: Buffer): void {
    if (!this.verify) return;
    let buf = chunk;
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let pos = 0;
    let verified = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) {
        this.carry = Buffer.from(buf.subarray(pos));
        break;
      }
      if (this.failure === undefined) {
        if (!this.active) this.fail(`unexpected line after it was replaced or left: ${JSON.stringify(buf.toString('latin1', pos, nl + 1))}`);
        else if (this.check(buf, pos, nl)) verified++;
      }
      pos = nl + 1;
      if (this.received >= this.leaveAfter) break;
    }
    if (verified > 0) this.events.verified(this, verified);
  }

  /** Checks the line `buf[start, nl)` (an optional `\r` before nl) against the next expectation. */
  private check(buf: Buffer, start: number, nl: number): boolean {
    if (this.size === 0) {
      this.fail(`unexpected line ${JSON.stringify(buf.toString('latin1', start, nl + 1))}: nothing was expected`);
      return false;
    }
    const ring = this.ring;
    const at = this.head * STRIDE;
    const seq = ring[at]!;
    const type = ring[at + 1]!;
    const from = ring[at + 2]!;
    const to = ring[at + 3]!;
    let end = nl;
    if (end > start && buf[end - 1] === 0x0d) end--;
    // Numbers are compared as parsed values in canonical form (what the harness sent).
    let o = this.number(buf, start, end, seq);
    let ok = o > 0 && buf[o++] === 0x7c && buf[o++] === type;
    if (ok && type !== B) ok = buf[o++] === 0x7c && (o = this.number(buf, o, end, from)) > 0;
    if (ok && type !== B && type !== S) ok = buf[o++] === 0x7c && (o = this.number(buf, o, end, to)) > 0;
    if (!ok || o !== end) {
      const expected = type === B ? `${seq}|B` : type === S ? `${seq}|S|${from}` : `${seq}|${String.fromCharCode(type)}|${from}|${to}`;
      this.fail(`expected ${JSON.stringify(expected)}, received ${JSON.stringify(buf.toString('latin1', start, nl + 1))} (after ${this.received} correct)`);
      return false;
    }
    this.head = (this.head + 1) % (this.ring.length / STRIDE);
    this.size--;
    this.received++;
    return true;
  }

  /** Reads a canonical decimal at `buf[at]`; returns where it ends, or -1 unless it is `n`. */
  private number(buf: Buffer, at: number, end: number, n: number): number {
    let o = at;
    let value = 0;
    while (o < end && buf[o]! >= 0x30 && buf[o]! <= 0x39) value = value * 10 + buf[o++]! - 0x30;
    return o > at && value === n && (buf[at] !== 0x30 || o - at === 1) ? o : -1;
  }

  private fail(message: string): void {
    this.failure ??= `client ${this.index} (user ${this.user}): ${message}`;
    this.events.failed(this);
  }

  private grow(): void {
    const bigger = new Int32Array(this.ring.length * 2);
    const slots = this.ring.length / STRIDE;
    for (let i = 0; i < this.size; i++) {
      const from = ((this.head + i) % slots) * STRIDE;
      bigger.set(this.ring.subarray(from, from + STRIDE), i * STRIDE);
    }
    this.ring = bigger;
    this.head = 0;
  }
}

/** What a client tells the harness. */
export interface ClientEvents {
  verified(client: VerifyingClient, count: number): void;
  failed(client: VerifyingClient): void;
}
