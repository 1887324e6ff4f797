import type { Socket } from 'node:net';
import { recognizeRequest, type FastRequestLimits } from './fastRequest.js';

/** A publish the socket fast path took off the wire. */
export interface FastPublish {
  stream: string;
  headers: Record<string, string>;
  /** A copy: never a view of the socket's read buffer. */
  body: Buffer;
}

/** What the connection writes back for one request. */
export interface FastAnswer {
  status: number;
  body: string;
  /** Extra headers as a flat [name, value, …] list. */
  headers: string[];
}

/** The fast path as a connection sees it (fastpath.ts). */
export interface FastConnectionHost {
  readonly limits: FastRequestLimits;
  readonly keepAliveMs: number;
  /** False once the listener is stopping: answers then close the connection. */
  readonly enabled: boolean;
  serve(request: FastPublish): FastAnswer | Promise<FastAnswer>;
  /** Renders an answer with its status line and the framing headers. */
  render(answer: FastAnswer, keepAlive: boolean): string;
  /** Gives the socket to node:http, which reads on from the bytes unshifted into it. */
  handOff(socket: Socket): void;
  forget(connection: FastConnection): void;
}

/** Answers taken but not yet written, per connection, before the connection stops reading. */
const MAX_PENDING = 64;
/**
 * How long a partly received request may take to complete before node:http gets the
 * connection (with the bytes so far), and with it the job of timing the request out.
 */
const PARTIAL_GRACE_MS = 1_000;

interface Pending {
  answer: FastAnswer | undefined;
  /** The client sent `Connection: close` with this request. */
  close: boolean;
}

/**
 * One client connection on the socket fast path. It takes the publishes recognizeRequest
 * accepts, answers them in request order (pipelined requests included), and at the first
 * request it does not take, hands the connection to node:http for good: once every answer
 * before it is written, the unread bytes go back into the socket and node's own connection
 * handler takes over, as if it had had the socket from the start.
 */
export class FastConnection {
  /** Bytes received and not yet taken: a partial request, or what follows the last one taken. */
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Bytes the partial request at the front needs in all, when its head says so. */
  private need = 0;
  private readonly pending: Pending[] = [];
  /** Going to node:http once the pending answers are written. */
  private releasing = false;
  /** A request asked for `Connection: close`, or the client ended its side: take nothing more. */
  private closing = false;
  /** The client ended its side: answer what was taken, then end ours. */
  private ended = false;
  private readPaused = false;
  private finished = false;
  /** When the partial request at the front began to arrive (0: none). */
  private partialSince = 0;
  /** The socket timeout now set, so it is changed only when it must be. */
  private timeoutMs = -1;

  constructor(
    private readonly socket: Socket,
    private readonly host: FastConnectionHost,
  ) {
    for (const [event, listener] of this.listeners()) socket.on(event, listener);
    this.setTimer(host.keepAliveMs);
  }

  /**
   * For the listener's stop: an idle connection is closed, as node:http closes its idle ones
   * (node would not count a connection handed over with nothing to read as idle, and would wait
   * for it); a busy one ends with its last answer, or goes to node:http if more was sent.
   */
  stop(): void {
    if (this.finished) return;
    if (this.pending.length > 0 || this.bytes > 0) {
      this.release();
      return;
    }
    this.finish();
    this.socket.destroy();
  }

  /** Hands the connection to node:http at its next request boundary. */
  private release(): void {
    if (this.finished || this.releasing) return;
    this.releasing = true;
    this.pauseReading();
    if (this.pending.length === 0) this.handOff();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.need) this.take();
    // A trickling client would reset an inactivity timeout forever: past the grace, node:http
    // takes the request and its own deadlines apply.
    if (this.partialSince !== 0 && Date.now() - this.partialSince > PARTIAL_GRACE_MS) this.release();
  };

  /** Takes every complete request buffered, up to the first one the fast path does not serve. */
  private take(): void {
    let buffered = this.joined();
    while (buffered !== undefined && !this.releasing && !this.closing) {
      if (this.pending.length >= MAX_PENDING || this.socket.writableNeedDrain) {
        this.pauseReading();
        break;
      }
      const request = recognizeRequest(buffered, this.host.limits);
      if (request.kind === 'partial') {
        this.need = request.need;
        if (this.partialSince === 0) this.partialSince = Date.now();
        break;
      }
      if (request.kind === 'other') {
        this.release();
        return;
      }
      const rest = request.end === buffered.length ? undefined : buffered.subarray(request.end);
      // A copy: a view would keep the whole read buffer alive as long as the event.
      const body = Buffer.from(buffered.subarray(request.bodyStart, request.end));
      this.setBuffered(rest);
      buffered = rest;
      this.need = 0;
      this.partialSince = 0;
      if (request.close) this.closing = true;
      const entry: Pending = { answer: undefined, close: request.close };
      this.pending.push(entry);
      const answer = this.host.serve({ stream: request.stream, headers: request.headers, body });
      if (answer instanceof Promise) {
        answer.then((a) => {
          entry.answer = a;
          this.flush();
        });
      } else {
        entry.answer = answer;
        this.flush();
      }
    }
    this.armTimer();
  }

  /** Writes the answers at the front of the queue that are ready, in request order. */
  private flush(): void {
    if (this.finished) return;
    let out = '';
    let end = false;
    while (this.pending.length > 0 && this.pending[0]!.answer !== undefined) {
      const { answer, close } = this.pending.shift()!;
      // Nothing after this one to answer, and the client is gone or the listener stopping.
      const last = this.pending.length === 0 && (this.ended || (this.bytes === 0 && !this.host.enabled));
      end = close || last;
      out += this.host.render(answer!, !end);
      if (end) break;
    }
    if (out !== '') this.socket.write(out);
    if (end) {
      this.finish();
      this.socket.end();
      return;
    }
    if (this.pending.length > 0) return;
    if (this.releasing) this.handOff();
    else if (this.readPaused) this.resumeReading();
    else this.armTimer();
  }

  private readonly onDrain = (): void => {
    if (this.readPaused && !this.releasing && this.pending.length < MAX_PENDING) this.resumeReading();
  };

  private pauseReading(): void {
    this.readPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    this.readPaused = false;
    this.socket.resume();
    this.take();
  }

  /** Idle: the keep-alive timeout; a partial request: the grace before node:http takes it; else none. */
  private armTimer(): void {
    if (this.finished) return;
    if (this.bytes > 0) this.setTimer(PARTIAL_GRACE_MS);
    else this.setTimer(this.pending.length === 0 ? this.host.keepAliveMs : 0);
  }

  private setTimer(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  private readonly onTimeout = (): void => {
    if (this.bytes > 0) this.release();
    else if (this.pending.length === 0) this.socket.destroy();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.closing = true;
    // A partial request can no longer complete; answers still pending end the socket when written.
    if (this.pending.length === 0) {
      this.finish();
      this.socket.end();
    }
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.finish();
  };

  private handOff(): void {
    if (this.finished) return;
    const buffered = this.joined();
    this.finish();
    this.socket.pause();
    this.setTimer(0);
    if (buffered !== undefined) this.socket.unshift(buffered);
    this.host.handOff(this.socket);
    // node:http does not resume a socket paused before it took it; resuming emits the unshifted
    // bytes (on the next tick) before anything read later.
    this.socket.resume();
  }

  /** Stops listening to the socket; it stays open for node:http or until its end is written. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const [event, listener] of this.listeners()) this.socket.removeListener(event, listener);
    // Until node:http takes it (or it closes), errors must still have a listener.
    this.socket.on('error', noop);
    this.host.forget(this);
  }

  /** The socket events this connection listens to while it has the socket. */
  private listeners(): Array<[string, (chunk: Buffer) => void]> {
    return [
      ['data', this.onData],
      ['end', this.onEnd],
      ['error', this.onError],
      ['close', this.onClose],
      ['timeout', this.onTimeout],
      ['drain', this.onDrain],
    ];
  }

  private joined(): Buffer | undefined {
    if (this.chunks.length === 0) return undefined;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
    return this.chunks[0];
  }

  private setBuffered(rest: Buffer | undefined): void {
    this.chunks = rest === undefined ? [] : [rest];
    this.bytes = rest === undefined ? 0 : rest.length;
  }
}

function noop(): void {}
