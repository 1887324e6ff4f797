import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setImmediate as yieldTurn, setTimeout as sleep } from 'node:timers/promises';
import { MazeModel, writeEventLine, type EventMix } from './model.js';
import { Random } from './random.js';
import { VerifyingClient, type ClientEvents } from './verifier.js';

/**
 * A follower-maze harness built from the rules (compat.md §2), for the tests and the benchmark:
 * C connected clients among U users, seeded random events shuffled within batches of random size
 * up to a maximum, every client's lines checked against its expected sequence exactly. Its memory
 * is bounded: expected notifications wait in per-client rings, and the generator stops while
 * more than `maxPending` are outstanding.
 *
 * Adversarial options: events held back and sent last, malformed lines among the valid ones,
 * CRLF/LF/mixed line endings, several source connections at once, sources reconnecting, clients
 * registering twice under one id, clients leaving mid-run.
 */
export interface HarnessOptions {
  host?: string;
  eventPort: number;
  clientPort: number;
  /** Events to send (seq 1..totalEvents). */
  totalEvents: number;
  /** Connected clients. */
  concurrency: number;
  /** Users in all, connected or not (default concurrency × 10). */
  users?: number;
  seed?: number;
  /** Largest batch; each batch has a random size 1..maxBatch and is shuffled (default 100). */
  maxBatch?: number;
  mix?: EventMix;
  avgFollowers?: number;
  /** Check what clients receive (default true; false against a server that sends nothing). */
  verify?: boolean;
  /** Line ending of source and registration lines (default lf). */
  lineEnding?: 'lf' | 'crlf' | 'mixed';
  /** Source connections used at once; batches go round-robin (default 1). */
  sources?: number;
  /** Close and reopen every source connection after each this many events. */
  reconnectEvery?: number;
  /** Sequence numbers withheld from their batch and sent after all the others. */
  holdBack?: number[];
  /** Probability, per batch, of one malformed line mixed into it (default 0). */
  malformedRate?: number;
  /** Length of an overlong line sometimes used as the malformed line (0: none). */
  overlongLineBytes?: number;
  /** Clients that register a second connection under their id; the first then expects nothing. */
  duplicates?: number;
  /** Clients that disconnect after a random number of their notifications. */
  leaving?: number;
  /** Bytes gathered before a write (default 64 KiB); `flushEveryBatch` writes each batch alone. */
  flushBytes?: number;
  flushEveryBatch?: boolean;
  /** Most expected notifications outstanding before the generator waits (default 1,000,000). */
  maxPending?: number;
  /** Fail when no notification arrives for this long while some are expected (default 20 s). */
  timeoutMs?: number;
  /** Resolves once the server has processed this many client registrations (default: 200 ms). */
  ready?: (registrations: number) => Promise<void>;
}

export interface HarnessReport {
  ok: boolean;
  failures: string[];
  events: number;
  /** Notifications the clients had to receive (including those of clients that left). */
  notifications: number;
  /** Notifications received and verified. */
  verified: number;
  /** From the first event generated to the last notification verified (or the source closed). */
  seconds: number;
  /** From the first event generated to the server closing the source after the last byte. */
  sendSeconds: number;
  eventsPerSecond: number;
  malformedSent: number;
  clientsLeft: number;
  /** Follow relations in the model at the end. */
  follows: number;
}

const MALFORMED = ['', '|', '123224', '12|||', '|B', '|U|4|5', '1|L|2|3', '12|F', '1|F||2', '1|F|2|', '1|F|12|12|12|12', '1|B|2', '12|S|23|23', '12|S|', '7|S| 3', 'x|B', '5|P|1|2 ', '9|FF|1|2', '3|b'];

export async function runHarness(options: HarnessOptions): Promise<HarnessReport> {
  const run = new HarnessRun(options);
  try {
    return await run.run();
  } finally {
    run.close();
  }
}

class HarnessRun implements ClientEvents {
  private readonly host: string;
  private readonly verify: boolean;
  private readonly model: MazeModel;
  private readonly random: Random;
  private readonly clients: VerifyingClient[] = [];
  private sources: Socket[] = [];
  private readonly allSources: Socket[] = [];
  private pending = 0;
  private verifiedCount = 0;
  private notifications = 0;
  private malformedSent = 0;
  private clientsLeft = 0;
  private readonly failures: string[] = [];
  private wake: (() => void) | undefined;
  private heldOutstanding: boolean;

  constructor(private readonly o: HarnessOptions) {
    this.host = o.host ?? '127.0.0.1';
    this.verify = o.verify ?? true;
    this.model = new MazeModel({ users: o.users ?? o.concurrency * 10, seed: o.seed ?? 666, ...(o.mix ? { mix: o.mix } : {}), ...(o.avgFollowers !== undefined ? { avgFollowers: o.avgFollowers } : {}) });
    this.random = new Random((o.seed ?? 666) ^ 0x5bd1e995);
    this.heldOutstanding = (o.holdBack?.length ?? 0) > 0;
  }

  /** The ending of a registration line. */
  private lineEnding(): string {
    const e = this.o.lineEnding ?? 'lf';
    return e === 'lf' ? '\n' : e === 'crlf' ? '\r\n' : this.random.below(2) === 0 ? '\n' : '\r\n';
  }

  async run(): Promise<HarnessReport> {
    await this.connectClients();
    await this.openSources();
    const started = performance.now();
    const closed = this.sendAll();
    await closed;
    const sendSeconds = (performance.now() - started) / 1000;
    if (this.verify) await this.awaitDelivery();
    const seconds = this.verify ? (performance.now() - started) / 1000 : sendSeconds;
    if (this.verify && this.failures.length === 0) await sleep(50); // a moment for lines nobody expected
    for (const c of this.clients) if (c.failure !== undefined && !this.failures.includes(c.failure)) this.failures.push(c.failure);
    const events = this.o.totalEvents;
    return {
      ok: this.failures.length === 0,
      failures: this.failures,
      events,
      notifications: this.notifications,
      verified: this.verifiedCount,
      seconds,
      sendSeconds,
      eventsPerSecond: events / seconds,
      malformedSent: this.malformedSent,
      clientsLeft: this.clientsLeft,
      follows: this.model.follows,
    };
  }

  close(): void {
    for (const c of this.clients) c.socket?.destroy();
    for (const s of this.allSources) s.destroy();
  }

  // ── clients ──────────────────────────────────────────────────────────────────

  private async connectClients(): Promise<void> {
    const users = this.o.users ?? this.o.concurrency * 10;
    const ids = Array.from({ length: users }, (_, i) => i + 1);
    this.random.shuffle(ids);
    const ready = this.o.ready ?? (() => sleep(200));
    for (let i = 0; i < this.o.concurrency; i++) this.clients.push(new VerifyingClient(i, ids[i]!, this.verify, this));
    await Promise.all(this.clients.map((c) => c.connect(this.host, this.o.clientPort, this.lineEnding())));
    for (const c of this.clients) this.model.attach(c.user, c.index);
    await ready(this.clients.length);
    const duplicates = Math.min(this.o.duplicates ?? 0, this.o.concurrency);
    if (duplicates > 0) {
      for (let i = 0; i < duplicates; i++) {
        const old = this.clients[i]!;
        const twin = new VerifyingClient(this.clients.length, old.user, this.verify, this);
        this.clients.push(twin);
        await twin.connect(this.host, this.o.clientPort, this.lineEnding());
        old.deactivate();
        this.model.attach(twin.user, twin.index);
      }
      await ready(this.clients.length);
    }
    const leaving = Math.min(this.o.leaving ?? 0, this.o.concurrency - duplicates);
    const perClient = Math.max(2, Math.floor((this.o.totalEvents * 0.4) / this.o.concurrency));
    for (let i = 0; i < leaving; i++) this.clients[duplicates + i]!.leaveAfter = 1 + this.random.below(perClient);
  }

  verified(client: VerifyingClient, count: number): void {
    this.verifiedCount += count;
    this.pending -= count;
    if (client.received >= client.leaveAfter && client.active) {
      this.pending -= client.deactivate();
      this.model.detach(client.user, client.index);
      client.socket?.destroy();
      this.clientsLeft++;
    }
    this.wakeUp();
  }

  failed(): void {
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private waitForProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async awaitDelivery(): Promise<void> {
    const timeout = this.o.timeoutMs ?? 20_000;
    let lastVerified = this.verifiedCount;
    let lastProgress = performance.now();
    while (this.pending > 0 && !this.clients.some((c) => c.failure !== undefined)) {
      await this.waitForProgress(Math.min(timeout, 1000));
      if (this.verifiedCount !== lastVerified) {
        lastVerified = this.verifiedCount;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress >= timeout) {
        const waiting = this.clients.filter((c) => c.active && c.pending > 0);
        this.failures.push(`timed out: ${this.pending} notifications never arrived (${waiting.length} clients still waiting, e.g. client ${waiting[0]?.index} user ${waiting[0]?.user})`);
        return;
      }
    }
  }

  // ── the event source ─────────────────────────────────────────────────────────

  private async openSources(): Promise<void> {
    const n = this.o.sources ?? 1;
    this.sources = await Promise.all(
      Array.from({ length: n }, async () => {
        const socket = connect({ host: this.host, port: this.o.eventPort, noDelay: true });
        socket.on('error', (err) => this.failures.push(`event source connection: ${err.message}`));
        await once(socket, 'connect');
        this.allSources.push(socket);
        return socket;
      }),
    );
  }

  /** Ends the current source connections; resolves once the server closed them too. */
  private async endSources(): Promise<void> {
    const sockets = this.sources;
    this.sources = [];
    await Promise.all(
      sockets.map((s) => {
        const closed = once(s, 'close');
        s.end();
        return closed;
      }),
    );
  }

  private async sendAll(): Promise<void> {
    const o = this.o;
    const maxBatch = o.maxBatch ?? 100;
    const flushBytes = o.flushBytes ?? 65_536;
    const maxPending = o.maxPending ?? 1_000_000;
    const overlong = o.overlongLineBytes ?? 0;
    const held = new Set(o.holdBack ?? []);
    const heldEvents: Array<[seq: number, type: number, from: number, to: number]> = [];
    // A batch is kept as fields and rendered straight into the output in shuffled order.
    const seqs = new Float64Array(maxBatch + 1);
    const types = new Int32Array(maxBatch + 1);
    const froms = new Int32Array(maxBatch + 1);
    const tos = new Int32Array(maxBatch + 1);
    const order = new Int32Array(maxBatch + 1);
    const lineRoom = 2 * 17 + 4 + 2;
    let out = Buffer.allocUnsafe(flushBytes + (maxBatch + 1) * lineRoom + overlong);
    let outLength = 0;
    let batchNo = 0;
    let sinceReconnect = 0;
    const mixedEndings = (o.lineEnding ?? 'lf') === 'mixed';
    const crlf = (o.lineEnding ?? 'lf') === 'crlf';

    const flush = async (): Promise<void> => {
      if (outLength === 0) return;
      const source = this.sources[batchNo % this.sources.length]!;
      const chunk = out.subarray(0, outLength);
      out = Buffer.allocUnsafe(out.length); // the socket keeps `chunk` until it is sent
      outLength = 0;
      if (!source.write(chunk)) await once(source, 'drain');
      else await yieldTurn();
    };
    const endLine = (): void => {
      if (crlf || (mixedEndings && this.random.below(2) === 0)) out[outLength++] = 0x0d;
      out[outLength++] = 0x0a;
    };

    let seq = 1;
    while (seq <= o.totalEvents) {
      const size = Math.min(1 + this.random.below(maxBatch), o.totalEvents - seq + 1);
      let k = 0;
      for (let i = 0; i < size; i++, seq++) {
        const e = this.model.next();
        if (e.count > 0) {
          this.notifications += e.count;
          if (this.verify) {
            const recipients = e.recipients;
            for (let r = 0; r < e.count; r++) this.clients[recipients[r]!]!.expect(seq, e.type, e.from, e.to);
            this.pending += e.count;
          }
        }
        if (held.size > 0 && held.has(seq)) heldEvents.push([seq, e.type, e.from, e.to]);
        else {
          seqs[k] = seq;
          types[k] = e.type;
          froms[k] = e.from;
          tos[k++] = e.to;
        }
      }
      let malformed: string | undefined;
      if (o.malformedRate !== undefined && this.random.float() < o.malformedRate) {
        malformed = overlong > 0 && this.random.below(8) === 0 ? 'x'.repeat(overlong) : MALFORMED[this.random.below(MALFORMED.length)]!;
        types[k++] = -1;
        this.malformedSent++;
      }
      for (let i = 0; i < k; i++) order[i] = i;
      this.random.shuffle(order, k);
      for (let i = 0; i < k; i++) {
        const j = order[i]!;
        if (types[j] === -1) outLength += out.write(malformed!, outLength, 'latin1');
        else outLength = writeEventLine(out, outLength, seqs[j]!, types[j]!, froms[j]!, tos[j]!);
        endLine();
      }
      batchNo++;
      sinceReconnect += size;
      if (o.flushEveryBatch || outLength >= flushBytes) await flush();
      if (o.reconnectEvery !== undefined && sinceReconnect >= o.reconnectEvery && seq <= o.totalEvents) {
        await flush();
        sinceReconnect = 0;
        await this.endSources();
        await this.openSources();
      }
      while (this.verify && this.pending > maxPending && !this.heldOutstanding && this.failures.length === 0) await this.waitForProgress(1000);
      if (this.failures.length > 0 || this.clients.some((c) => c.failure !== undefined)) break;
    }
    for (const [hSeq, type, from, to] of heldEvents) {
      outLength = writeEventLine(out, outLength, hSeq, type, from, to);
      endLine();
      if (outLength >= flushBytes) await flush();
    }
    await flush();
    this.heldOutstanding = false;
    await this.endSources();
  }
}
