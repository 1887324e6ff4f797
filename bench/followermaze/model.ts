import { Random } from './random.js';

/**
 * The harness's own model of the follower maze, built from the rules (compat.md §2), not from
 * Herald's code: it invents events in sequence order and says which connected clients each one
 * must reach. Users are 1..users; `clientOf[user]` is the harness client currently representing a
 * user (-1: none), so a client that leaves or is replaced stops being a recipient at once.
 */

/** Event type letters as ASCII bytes. */
export const F = 0x46;
export const U = 0x55;
export const B = 0x42;
export const P = 0x50;
export const S = 0x53;

/** Shares of the event types (they need not add up to 1: the rest are follows and unfollows). */
export interface EventMix {
  /** Status updates (the most common). */
  status: number;
  /** Private messages. */
  private: number;
  /** Broadcasts (rare: each reaches every client). */
  broadcast: number;
}

export const DEFAULT_MIX: EventMix = { status: 0.5, private: 0.2, broadcast: 0.0001 };

export interface ModelOptions {
  users: number;
  seed: number;
  mix?: EventMix;
  /**
   * Follows and unfollows keep the graph near this many followers per user: below it follows
   * win, above it unfollows, so the fan-out of a status update stays stable over long runs.
   */
  avgFollowers?: number;
}

/** One generated event: its fields, and the clients it must reach in `recipients[0, count)`. */
export interface Generated {
  type: number;
  from: number;
  to: number;
  recipients: Int32Array;
  count: number;
}

export class MazeModel {
  readonly clientOf: Int32Array;
  /** Connected client indexes (for broadcasts), kept in step with clientOf. */
  private readonly connected: number[] = [];
  private readonly followers: number[][];
  private readonly edges = new Set<number>();
  private readonly random: Random;
  private readonly mix: EventMix;
  private readonly targetEdges: number;
  readonly out: Generated;

  constructor(private readonly options: ModelOptions) {
    this.random = new Random(options.seed);
    this.mix = options.mix ?? DEFAULT_MIX;
    this.clientOf = new Int32Array(options.users + 1).fill(-1);
    this.followers = Array.from({ length: options.users + 1 }, () => []);
    this.targetEdges = (options.avgFollowers ?? 10) * options.users;
    this.out = { type: 0, from: 0, to: 0, recipients: new Int32Array(1024), count: 0 };
  }

  /** `client` now represents `user` (replacing any earlier client of that user). */
  attach(user: number, client: number): void {
    const previous = this.clientOf[user]!;
    if (previous >= 0) this.connected.splice(this.connected.indexOf(previous), 1);
    this.clientOf[user] = client;
    this.connected.push(client);
  }

  /** The client of `user` left: it receives nothing more. */
  detach(user: number, client: number): void {
    if (this.clientOf[user] !== client) return;
    this.clientOf[user] = -1;
    this.connected.splice(this.connected.indexOf(client), 1);
  }

  /** A random user id. */
  user(): number {
    return 1 + this.random.below(this.options.users);
  }

  /** Generates the next event into `out`. */
  next(): Generated {
    const out = this.out;
    out.count = 0;
    const r = this.random.float();
    const mix = this.mix;
    if (r < mix.broadcast) {
      out.type = B;
      out.from = out.to = 0;
      for (const c of this.connected) this.push(c);
    } else if (r < mix.broadcast + mix.status) {
      out.type = S;
      out.from = this.user();
      out.to = 0;
      for (const f of this.followers[out.from]!) {
        const c = this.clientOf[f]!;
        if (c >= 0) this.push(c);
      }
    } else if (r < mix.broadcast + mix.status + mix.private) {
      out.type = P;
      this.pair();
      this.notifyTo();
    } else if (this.random.float() < this.followShare() || !this.unfollow()) {
      out.type = F;
      this.pair();
      const key = out.to * (this.options.users + 1) + out.from;
      if (!this.edges.has(key)) {
        this.edges.add(key);
        this.followers[out.to]!.push(out.from);
      }
      this.notifyTo();
    }
    return out;
  }

  /** Follow relations in the model. */
  get follows(): number {
    return this.edges.size;
  }

  private followShare(): number {
    return Math.min(0.95, Math.max(0.05, 1 - this.edges.size / (2 * this.targetEdges)));
  }

  /** An unfollow of an existing relation, into `out`; false when the picked user has no followers. */
  private unfollow(): boolean {
    const out = this.out;
    const to = this.user();
    const list = this.followers[to]!;
    if (list.length === 0) return false;
    const i = this.random.below(list.length);
    const from = list[i]!;
    list[i] = list[list.length - 1]!;
    list.pop();
    this.edges.delete(to * (this.options.users + 1) + from);
    out.type = U;
    out.from = from;
    out.to = to;
    return true;
  }

  private pair(): void {
    const out = this.out;
    out.from = this.user();
    do out.to = this.user();
    while (out.to === out.from && this.options.users > 1);
  }

  private notifyTo(): void {
    const c = this.clientOf[this.out.to]!;
    if (c >= 0) this.push(c);
  }

  private push(client: number): void {
    const out = this.out;
    if (out.count === out.recipients.length) {
      const bigger = new Int32Array(out.recipients.length * 2);
      bigger.set(out.recipients);
      out.recipients = bigger;
    }
    out.recipients[out.count++] = client;
  }
}

/** Writes `n` (a non-negative integer) as decimal digits at `buf[at]`; returns the end. */
export function writeDecimal(buf: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  let i = at + digits;
  if (n < 2147483648) {
    let m = n | 0;
    do {
      const q = (m / 10) | 0;
      buf[--i] = 0x30 + m - q * 10;
      m = q;
    } while (m > 0);
  } else {
    for (let m = n; i > at; m = Math.floor(m / 10)) buf[--i] = 0x30 + (m % 10);
  }
  return at + digits;
}

/** Writes the line of an event (no terminator) at `buf[at]`; returns the end. */
export function writeEventLine(buf: Uint8Array, at: number, seq: number, type: number, from: number, to: number): number {
  let o = writeDecimal(buf, at, seq);
  buf[o++] = 0x7c;
  buf[o++] = type;
  if (type === B) return o;
  buf[o++] = 0x7c;
  o = writeDecimal(buf, o, from);
  if (type === S) return o;
  buf[o++] = 0x7c;
  return writeDecimal(buf, o, to);
}
