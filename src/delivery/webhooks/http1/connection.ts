import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { ResponseParser, type ParsedResponse, type ParserLimits } from './responseParser.js';

/** Where a connection goes: parsed once per URL. */
export interface Origin {
  /** `http://host:port`: the pool key. */
  key: string;
  tls: boolean;
  hostname: string;
  port: number;
}

/** A transport failure of one exchange. */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    /** Whether any response byte had arrived: if not, on a reused connection the request may be sent again. */
    readonly responseStarted: boolean,
    /**
     * The request was pipelined behind another whose failure took the connection down: it may be
     * sent again whatever the connection's age.
     */
    readonly behind = false,
  ) {
    super(message);
  }
}

interface Exchange {
  parser: ResponseParser;
  resolve(response: ParsedResponse): void;
  reject(err: Error): void;
}

/**
 * One keep-alive HTTP/1.1 connection: a socket whose requests are answered in the order they
 * were sent. Usually one exchange at a time; with pipelining, further requests go out before the
 * earlier answers arrive, and requests written in one event-loop turn leave in one write. The
 * pool decides what it carries; the connection only reports whether it can carry more.
 */
export class Connection {
  /** Exchanges completed on this connection. */
  uses = 0;
  /** Idle time after which the pool closes it (shortened by the server's `Keep-Alive: timeout`). */
  idleMs: number;
  private closed = false;
  /** Set once the connection must not carry another request (an error, a close, a response that says so). */
  private broken = false;
  /** Requests sent and not yet answered, oldest first: the next response answers the first. */
  private readonly exchanges: Exchange[] = [];
  private corked = false;
  /** Called once when the socket is gone, whatever the reason. */
  onClose: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly limits: ParserLimits,
    idleMs: number,
  ) {
    this.idleMs = idleMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.ended());
    socket.on('error', (err: NodeJS.ErrnoException) => this.failed(err.message, err.code));
    socket.on('close', () => this.gone());
  }

  /**
   * Opens a connection; rejects with an ExchangeError when it cannot be made within
   * `connectTimeoutMs` (so an unreachable host does not hold a pool slot for the OS's minutes).
   */
  static open(origin: Origin, limits: ParserLimits, idleMs: number, connectTimeoutMs: number, tls: ConnectionOptions | undefined): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = origin.tls
        ? connectTls({ host: origin.hostname, port: origin.port, ALPNProtocols: ['http/1.1'], ...(isIP(origin.hostname) === 0 ? { servername: origin.hostname } : {}), ...tls })
        : connectTcp({ host: origin.hostname, port: origin.port });
      const onError = (err: NodeJS.ErrnoException): void => reject(new ExchangeError(err.message, err.code, false));
      socket.once('error', onError);
      socket.setTimeout(connectTimeoutMs, () => socket.destroy(Object.assign(new Error(`connect timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
      socket.once(origin.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', onError);
        socket.setTimeout(0);
        resolve(new Connection(socket, limits, idleMs));
      });
    });
  }

  /** Whether it can carry another request. */
  get reusable(): boolean {
    return !this.closed && !this.broken;
  }

  /**
   * Sends a request (its bytes, head and body) and resolves with its response. `pipelined`
   * holds the write until the end of the event-loop turn, so the requests of one turn leave
   * together.
   */
  exchange(request: Buffer, headRequest: boolean, pipelined = false): Promise<ParsedResponse> {
    if (!this.reusable) return Promise.reject(new ExchangeError('the connection is closed', 'ECONNRESET', false));
    return new Promise((resolve, reject) => {
      this.exchanges.push({ parser: new ResponseParser(this.limits, headRequest), resolve, reject });
      if (pipelined && !this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(this.uncork);
      }
      this.socket.write(request);
    });
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  destroy(reason?: string): void {
    this.broken = true;
    if (reason !== undefined) this.failed(reason, undefined);
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    let data: Buffer | undefined = chunk;
    while (data !== undefined && data.length > 0) {
      const current = this.exchanges[0];
      if (current === undefined) {
        // Bytes nobody asked for: the connection's framing cannot be trusted.
        this.destroy();
        return;
      }
      let response: ParsedResponse | undefined;
      try {
        response = current.parser.feed(data);
      } catch (err) {
        this.failed((err as Error).message, 'HPE_INVALID');
        this.destroy();
        return;
      }
      if (response === undefined) return;
      this.settle(response);
      // What followed it answers the next request, if the connection may go on.
      data = this.broken ? undefined : current.parser.rest;
    }
  }

  private settle(response: ParsedResponse): void {
    const current = this.exchanges.shift()!;
    this.uses++;
    const hint = /\btimeout=(\d+)/i.exec(response.headers.get('keep-alive') ?? '');
    // Leave a second's margin before the server's own idle timeout, so it never closes a
    // connection just as a request is sent on it.
    if (hint !== null) this.idleMs = Math.min(this.idleMs, Math.max(0, Number(hint[1]) * 1000 - 1000));
    if (!response.reusable) this.destroy();
    current.resolve(response);
  }

  private ended(): void {
    const current = this.exchanges[0];
    if (current === undefined) return;
    let response: ParsedResponse;
    try {
      response = current.parser.end();
    } catch (err) {
      this.failed((err as Error).message, 'ECONNRESET');
      return;
    }
    this.settle(response);
  }

  /** The connection cannot go on: every request still waiting for its answer fails. */
  private failed(message: string, code: string | undefined): void {
    this.broken = true;
    const waiting = this.exchanges.splice(0);
    waiting.forEach((exchange, i) => exchange.reject(new ExchangeError(message, code, exchange.parser.started, i > 0)));
  }

  private gone(): void {
    if (this.exchanges.length > 0) this.ended();
    if (this.exchanges.length > 0) this.failed('the connection closed', 'ECONNRESET');
    this.closed = true;
    this.onClose?.();
  }
}
