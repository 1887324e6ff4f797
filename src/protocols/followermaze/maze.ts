import type { Logger } from '../../observability/logger.js';
import { ClientConnection, type Outbox } from './client.js';
import { FollowerGraph } from './graph.js';
import { BROADCAST, EventLineParser, FOLLOW, LINE_OK, LINE_TOO_LONG, PRIVATE, STATUS, UNFOLLOW, lineErrorReason } from './parser.js';
import { RateLimitedLog } from './rateLimitedLog.js';
import { OFFER_STALE, OFFER_TOO_FAR, Sequencer, type SequencedSink } from './sequencer.js';
import { SourceGate } from './sourceGate.js';

/** Sees every event as it is dispatched, in sequence order (the stream mirror). */
export interface MazeObserver {
  event(seq: number, type: number, from: number, to: number, line: Uint8Array, start: number, end: number): void;
  /** Called once per turn after the clients were flushed. */
  flush(): void;
}

export interface MazeOptions {
  logger: Logger;
  /** How far ahead of the next expected seq an event may be and still wait. */
  reorderWindow: number;
  /** Unsent bytes on one client socket above which the sources are paused. */
  clientBufferBytes: number;
  /** A client congested for longer than this is disconnected (0: never). */
  clientStallTimeoutMs: number;
  /** Least time between two log lines about malformed or refused lines. */
  logIntervalMs: number;
  /** The first seq expected (a restored state carries on from its own). */
  next?: number;
}

/** Counters of one maze, read by the metrics and tests. */
export interface MazeStats {
  nextSeq: number;
  waiting: number;
  clients: number;
  sources: number;
  users: number;
  follows: number;
  dispatched: number;
  notifications: number;
  malformed: number;
  stale: number;
  tooFar: number;
  registrations: number;
  stalledClients: number;
}

/**
 * The follower maze itself: lines in, notifications out. Source lines are parsed (bytes, no
 * strings), put in sequence order, applied to the follower graph, and turned into notifications
 * appended to the clients' buffers; once per event-loop turn every client that got something is
 * flushed with one write. Everything here runs on the event loop, so there are no locks.
 */
export class FollowerMaze implements SequencedSink, Outbox {
  readonly graph = new FollowerGraph();
  readonly sequencer: Sequencer;
  readonly gate = new SourceGate();
  observer: MazeObserver | undefined;

  /** Registered connections (one per user id: the newest registration wins). */
  private readonly registered: ClientConnection[] = [];
  private readonly parser = new EventLineParser();
  private dirty: ClientConnection[] = [];
  private spare: ClientConnection[] = [];
  private flushScheduled = false;
  private readonly congested = new Set<ClientConnection>();
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly malformedLog: RateLimitedLog;
  private readonly refusedLog: RateLimitedLog;
  private counts = { dispatched: 0, notifications: 0, malformed: 0, stale: 0, tooFar: 0, registrations: 0, stalledClients: 0 };

  constructor(private readonly options: MazeOptions) {
    this.log = options.logger;
    this.sequencer = new Sequencer(this, options.reorderWindow, options.next ?? 1);
    this.malformedLog = new RateLimitedLog(this.log, 'warn', options.logIntervalMs);
    this.refusedLog = new RateLimitedLog(this.log, 'warn', options.logIntervalMs);
  }

  // ── source side ──────────────────────────────────────────────────────────────

  /**
   * Takes the complete lines of `buf[pos, end)` (each ending in `\n`); returns where the
   * incomplete last line, if any, begins (`end` when there is none). Lines longer than
   * `maxLineBytes` are dropped as malformed.
   */
  consume(buf: Uint8Array, pos: number, end: number, maxLineBytes: number): number {
    const parser = this.parser;
    const sequencer = this.sequencer;
    while (pos < end) {
      const nl = parser.scanLine(buf, pos, end);
      if (nl < 0) return pos;
      if (nl - pos > maxLineBytes) this.lineTooLong(nl - pos);
      else if (parser.code !== LINE_OK) this.malformed(parser.code, buf, parser.lineStart, parser.lineEnd);
      else {
        const outcome = sequencer.offer(parser.seq, parser.type, parser.from, parser.to, buf, parser.lineStart, parser.lineEnd);
        if (outcome >= OFFER_STALE) this.refused(outcome, parser.seq);
      }
      pos = nl + 1;
    }
    return end;
  }

  /** A source line longer than the limit (its bytes were not kept). */
  lineTooLong(length: number): void {
    this.counts.malformed++;
    this.malformedLog.log({ length }, `malformed event line dropped: ${lineErrorReason(LINE_TOO_LONG)} (${length} bytes)`);
  }

  /** A connection ended in the middle of a line, which is dropped. */
  incompleteLine(length: number): void {
    this.counts.malformed++;
    this.malformedLog.log({ length }, 'event source connection ended in the middle of a line; the partial line is dropped');
  }

  private malformed(code: number, buf: Uint8Array, start: number, end: number): void {
    this.counts.malformed++;
    const line = Buffer.from(buf.buffer, buf.byteOffset + start, Math.min(end - start, 200)).toString('utf8');
    this.malformedLog.log({ line, reason: lineErrorReason(code) }, `Error while parsing the event message, got error: ${lineErrorReason(code)}`);
  }

  private refused(outcome: number, seq: number): void {
    const next = this.sequencer.next;
    if (outcome === OFFER_STALE) {
      this.counts.stale++;
      this.refusedLog.log({ seq, next }, `event ${seq} dropped: its sequence number was already dispatched (next expected: ${next})`);
    } else {
      this.counts.tooFar++;
      this.refusedLog.log({ seq, next, window: this.sequencer.window }, `event ${seq} dropped: more than followermaze.reorderWindow ahead of the next expected ${next}`);
    }
  }

  // ── dispatch ─────────────────────────────────────────────────────────────────

  /** Applies one event, in sequence order (called by the sequencer). */
  deliver(type: number, from: number, to: number, line: Uint8Array, start: number, end: number): void {
    let sent = 0;
    switch (type) {
      case STATUS: {
        const user = this.graph.find(from);
        if (user !== undefined) {
          const followers = user.followers;
          for (let i = 0; i < followers.length; i++) {
            const client = followers[i]!.client;
            if (client !== undefined) {
              client.notify(line, start, end);
              sent++;
            }
          }
        }
        break;
      }
      case FOLLOW: {
        const client = this.graph.follow(from, to).client;
        if (client !== undefined) {
          client.notify(line, start, end);
          sent = 1;
        }
        break;
      }
      case UNFOLLOW:
        this.graph.unfollow(from, to);
        break;
      case PRIVATE: {
        const client = this.graph.find(to)?.client;
        if (client !== undefined) {
          client.notify(line, start, end);
          sent = 1;
        }
        break;
      }
      case BROADCAST: {
        const registered = this.registered;
        for (let i = 0; i < registered.length; i++) registered[i]!.notify(line, start, end);
        sent = registered.length;
        break;
      }
    }
    this.counts.dispatched++;
    this.counts.notifications += sent;
    if (this.observer !== undefined) this.observer.event(this.sequencer.next - 1, type, from, to, line, start, end);
  }

  // ── clients ──────────────────────────────────────────────────────────────────

  /**
   * Makes `client` the connection of user `id`. A connection already registered for that id is
   * replaced: it receives nothing more but stays open (as in the original).
   */
  register(client: ClientConnection, id: number): void {
    const user = this.graph.user(id);
    const previous = user.client;
    if (previous !== undefined) {
      this.unlist(previous);
      previous.user = undefined;
      previous.discard();
      this.relieve(previous); // it gets nothing more: its backlog must not hold the sources
      this.log.info({ user: id }, `user ${id} registered again: the newer connection replaces the older one`);
    }
    user.client = client;
    client.user = user;
    client.index = this.registered.length;
    this.registered.push(client);
    this.counts.registrations++;
  }

  /** Forgets a closed connection. */
  unregister(client: ClientConnection): void {
    const user = client.user;
    if (user !== undefined && user.client === client) user.client = undefined;
    client.user = undefined;
    client.discard();
    this.unlist(client);
    this.relieve(client);
  }

  private unlist(client: ClientConnection): void {
    const i = client.index;
    if (i < 0) return;
    const last = this.registered.pop()!;
    if (last !== client) {
      this.registered[i] = last;
      last.index = i;
    }
    client.index = -1;
  }

  /** The registered connections (tests). */
  get clients(): readonly ClientConnection[] {
    return this.registered;
  }

  // ── output, once per turn ────────────────────────────────────────────────────

  enqueue(client: ClientConnection): void {
    this.dirty.push(client);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
  }

  /** Writes every client's pending notifications, then applies backpressure. */
  readonly flushAll = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = this.spare;
    const high = this.options.clientBufferBytes;
    for (let i = 0; i < dirty.length; i++) {
      const client = dirty[i]!;
      client.flush();
      if (client.congestedSince === 0 && client.socket.writableLength > high) this.congest(client);
    }
    dirty.length = 0;
    this.spare = dirty;
    this.observer?.flush();
  };

  private congest(client: ClientConnection): void {
    client.congestedSince = Date.now();
    this.congested.add(client);
    client.socket.once('drain', () => this.relieve(client));
    this.gate.hold();
    const timeout = this.options.clientStallTimeoutMs;
    if (timeout > 0 && this.stallTimer === undefined) {
      this.stallTimer = setInterval(() => this.dropStalled(), Math.max(10, Math.min(1000, timeout / 4)));
      this.stallTimer.unref();
    }
  }

  private relieve(client: ClientConnection): void {
    if (client.congestedSince === 0) return;
    client.congestedSince = 0;
    this.congested.delete(client);
    this.gate.release();
    if (this.congested.size === 0 && this.stallTimer !== undefined) {
      clearInterval(this.stallTimer);
      this.stallTimer = undefined;
    }
  }

  /** Disconnects clients that have not taken their notifications for too long. */
  private dropStalled(): void {
    const deadline = Date.now() - this.options.clientStallTimeoutMs;
    for (const client of [...this.congested]) {
      if (client.congestedSince > deadline) continue;
      this.counts.stalledClients++;
      this.log.warn({ user: client.user?.id, unsent: client.socket.writableLength }, 'disconnecting a user client that stopped reading its notifications (followermaze.clientStallTimeoutMs)');
      this.unregister(client);
      client.socket.destroy();
    }
  }

  // ── state ────────────────────────────────────────────────────────────────────

  stats(): MazeStats {
    return {
      nextSeq: this.sequencer.next,
      waiting: this.sequencer.waiting,
      clients: this.registered.length,
      sources: this.gate.size,
      users: this.graph.size,
      follows: this.graph.edges,
      ...this.counts,
    };
  }

  /** Stops the timers (the listeners close the sockets). */
  close(): void {
    if (this.stallTimer !== undefined) clearInterval(this.stallTimer);
    this.stallTimer = undefined;
    if (this.flushScheduled) this.flushAll();
  }
}
