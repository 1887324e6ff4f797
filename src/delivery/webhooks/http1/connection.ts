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
  ) {
    super(message);
  }
}

/**
 * One keep-alive HTTP/1.1 connection: a socket that carries one exchange (request bytes out,
 * one response in) at a time. The pool decides when it is reused; the connection only reports
 * whether it can be.
 */
export class Connection {
  /** Exchanges completed on this connection. */
  uses = 0;
  /** Idle time after which the pool closes it (shortened by the server's `Keep-Alive: timeout`). */
  idleMs: number;
  private closed = false;
  /** Set once the connection must not carry another request (an error, a close, a response that says so). */
  private broken = false;
  private current: { parser: ResponseParser; resolve(r: ParsedResponse): void; reject(e: Error): void } | undefined;
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

  /** Sends a request (its bytes, head and body) and resolves with its response. */
  exchange(request: Buffer, headRequest: boolean): Promise<ParsedResponse> {
    if (this.closed) return Promise.reject(new ExchangeError('the connection is closed', 'ECONNRESET', false));
    return new Promise((resolve, reject) => {
      this.current = { parser: new ResponseParser(this.limits, headRequest), resolve, reject };
      this.socket.write(request);
    });
  }

  destroy(reason?: string): void {
    this.broken = true;
    if (reason !== undefined) this.failed(reason, undefined);
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    const current = this.current;
    if (current === undefined) {
      // Bytes nobody asked for: the connection's framing cannot be trusted.
      this.destroy();
      return;
    }
    let response: ParsedResponse | undefined;
    try {
      response = current.parser.feed(chunk);
    } catch (err) {
      this.failed((err as Error).message, 'HPE_INVALID');
      this.destroy();
      return;
    }
    if (response !== undefined) this.settle(response);
  }

  private settle(response: ParsedResponse): void {
    const current = this.current!;
    this.current = undefined;
    this.uses++;
    const hint = /\btimeout=(\d+)/i.exec(response.headers.get('keep-alive') ?? '');
    // Leave a second's margin before the server's own idle timeout, so it never closes a
    // connection just as a request is sent on it.
    if (hint !== null) this.idleMs = Math.min(this.idleMs, Math.max(0, Number(hint[1]) * 1000 - 1000));
    if (!response.reusable) this.destroy();
    current.resolve(response);
  }

  private ended(): void {
    const current = this.current;
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

  private failed(message: string, code: string | undefined): void {
    this.broken = true;
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    current.reject(new ExchangeError(message, code, current.parser.started));
  }

  private gone(): void {
    if (this.current !== undefined) this.ended();
    if (this.current !== undefined) this.failed('the connection closed', 'ECONNRESET');
    this.closed = true;
    this.onClose?.();
  }
}
