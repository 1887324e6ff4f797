import type { ConnectionOptions } from 'node:tls';
import { Connection, ExchangeError, type Origin } from './connection.js';
import type { ParsedResponse, ParserLimits } from './responseParser.js';

export interface Http1ClientOptions extends ParserLimits {
  /** Connections per origin at most; further requests wait for one. */
  connectionsPerOrigin: number;
  /** An idle connection is closed after this long (sooner if the server's Keep-Alive says so). */
  idleTimeoutMs: number;
  /** Extra TLS options for https origins (a private CA, client certificates). */
  tls?: ConnectionOptions;
}

export interface Http1Request {
  url: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
  timeoutMs: number;
}

/** The request failed before a full answer: a transport error, a timeout, an abort or a broken response. */
export class Http1Error extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Headers the client writes itself; the same names among the caller's are dropped. */
const OWN_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);
/** RFC 9110 token: a header name or a method. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Bytes a header value may not hold (node:http's own rule). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * A small HTTP/1.1 client for webhook deliveries: keep-alive pools per origin, one deadline per
 * request covering connect, send and the whole response, a capped response body, and http or
 * https. It replaced undici for deliveries because a delivery is one small POST answered by a
 * status, and undici's general machinery cost more than twice the CPU per request of this
 * (docs/webhooks.md, "The HTTP client").
 *
 * A request that fails on a reused connection before any byte of the answer arrived (the server
 * closed the idle connection as it was sent) is sent once more on a new connection: webhook
 * delivery is at least once, and receivers deduplicate by `webhook-id`.
 */
export class Http1Client {
  private readonly pools = new Map<string, OriginPool>();
  private readonly origins = new Map<string, { origin: Origin; path: string; host: string; authorization: string | undefined }>();
  private closed = false;

  constructor(private readonly options: Http1ClientOptions) {}

  async request(req: Http1Request, signal?: AbortSignal): Promise<ParsedResponse> {
    if (this.closed) throw new Http1Error('the client is closed', undefined);
    const target = this.target(req.url);
    // Head and body in one buffer: one plain write per request (copying a small body costs little).
    const head = serializeHead(req, target.path, target.host, target.authorization);
    const headBytes = Buffer.byteLength(head, 'latin1');
    const bytes = Buffer.allocUnsafe(headBytes + req.body.length);
    bytes.write(head, 0, 'latin1');
    bytes.set(req.body, headBytes);
    const headRequest = req.method === 'HEAD';
    const pool = this.pool(target.origin);
    const deadline = performance.now() + req.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await pool.run(deadline, signal, (conn) => conn.exchange(bytes, headRequest), attempt > 0);
      } catch (err) {
        const stale = err instanceof StaleConnectionError;
        if (!stale || attempt > 0) throw stale ? new Http1Error(err.message, err.code) : err;
      }
    }
  }

  /** Closes the idle connections and fails the waiting requests; requests in flight finish or hit their deadline. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }

  private pool(origin: Origin): OriginPool {
    let pool = this.pools.get(origin.key);
    if (pool === undefined) this.pools.set(origin.key, (pool = new OriginPool(origin, this.options)));
    return pool;
  }

  /** A URL's parts, cached: parsing a URL on every delivery would be wasted work. */
  private target(url: string) {
    let target = this.origins.get(url);
    if (target !== undefined) return target;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Http1Error(`invalid URL: ${url}`, 'ERR_INVALID_URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Http1Error(`unsupported protocol ${parsed.protocol} (http and https only)`, 'ERR_INVALID_URL');
    const tls = parsed.protocol === 'https:';
    const port = parsed.port === '' ? (tls ? 443 : 80) : Number(parsed.port);
    // URL keeps IPv6 hosts in brackets; sockets want them bare.
    const hostname = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
    const authorization = parsed.username === '' ? undefined : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
    target = { origin: { key: `${parsed.protocol}//${parsed.host}`, tls, hostname, port }, path: `${parsed.pathname}${parsed.search}`, host: parsed.host, authorization };
    if (this.origins.size >= 10_000) this.origins.clear();
    this.origins.set(url, target);
    return target;
  }
}

/** The request line and headers. Throws Http1Error for a method, name or value that would break the framing. */
export function serializeHead(req: Http1Request, path: string, host: string, authorization: string | undefined): string {
  if (!TOKEN.test(req.method)) throw new Http1Error(`invalid method ${JSON.stringify(req.method)}`, 'ERR_INVALID_HEADER');
  let head = `${req.method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  let hasAuthorization = false;
  for (const name in req.headers) {
    const lower = name.toLowerCase();
    if (OWN_HEADERS.has(lower)) continue;
    if (!TOKEN.test(name)) throw new Http1Error(`invalid header name ${JSON.stringify(name)}`, 'ERR_INVALID_HEADER');
    if (lower === 'authorization') hasAuthorization = true;
    const value = req.headers[name]!;
    for (const one of typeof value === 'string' ? [value] : value) {
      if (BAD_VALUE.test(one)) throw new Http1Error(`invalid value for header ${name}`, 'ERR_INVALID_HEADER');
      head += `${name}: ${one}\r\n`;
    }
  }
  if (authorization !== undefined && !hasAuthorization) head += `authorization: ${authorization}\r\n`;
  if (req.body.length > 0 || (req.method !== 'GET' && req.method !== 'HEAD')) head += `content-length: ${req.body.length}\r\n`;
  return `${head}\r\n`;
}

/** How long a connection opened for a waiting request may take (the request's own deadline still applies). */
const WAITER_CONNECT_TIMEOUT_MS = 10_000;

/** A reused connection failed before any byte of the answer: the request may be sent again. */
class StaleConnectionError extends Http1Error {}

interface Waiter {
  resolve(conn: Connection): void;
  reject(err: Error): void;
}

/** The connections to one origin: idle ones reused most-recent first, at most `connectionsPerOrigin` open. */
class OriginPool {
  private readonly idle: Connection[] = [];
  private readonly idleTimers = new Map<Connection, NodeJS.Timeout>();
  private readonly waiters: Waiter[] = [];
  private open = 0;
  private closed = false;

  constructor(
    private readonly origin: Origin,
    private readonly options: Http1ClientOptions,
  ) {}

  /**
   * Runs one exchange on a connection within the deadline; `fresh` closes the idle connections
   * first (after one went stale, its siblings likely are too).
   */
  async run(deadline: number, signal: AbortSignal | undefined, exchange: (conn: Connection) => Promise<ParsedResponse>, fresh: boolean): Promise<ParsedResponse> {
    if (fresh) for (const conn of this.idle.splice(0)) this.discard(conn);
    const timeoutMs = Math.max(0, deadline - performance.now());
    let conn: Connection | undefined;
    let stopped: Http1Error | undefined;
    let giveUpWaiting: ((err: Error) => void) | undefined;
    const stop = (err: Http1Error): void => {
      stopped ??= err;
      if (conn !== undefined) conn.destroy(err.message);
      else giveUpWaiting?.(err);
    };
    const timer = setTimeout(() => stop(new Http1Error(`timed out after ${Math.round(timeoutMs)} ms`, undefined)), timeoutMs);
    const onAbort = (): void => stop(new Http1Error('aborted', undefined));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      conn = await new Promise<Connection>((resolve, reject) => {
        giveUpWaiting = reject;
        this.acquire(timeoutMs).then((c) => {
          // Given up on meanwhile (deadline, abort): the connection goes back for others.
          if (stopped === undefined) resolve(c);
          else this.release(c);
        }, reject);
      });
      const response = await exchange(conn);
      this.release(conn);
      return response;
    } catch (err) {
      if (conn !== undefined) this.release(conn);
      if (stopped !== undefined) throw stopped;
      if (err instanceof ExchangeError) {
        // `uses` counts the exchanges completed before this one.
        if (!err.responseStarted && conn !== undefined && conn.uses > 0) throw new StaleConnectionError(err.message, err.code);
        throw new Http1Error(err.message, err.code);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.closed = true;
    for (const conn of this.idle.splice(0)) this.discard(conn);
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Http1Error('the client is closed', undefined));
  }

  /** A connection: an idle one, a new one (connecting for at most `connectTimeoutMs`), or the next one freed. */
  private acquire(connectTimeoutMs: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new Http1Error('the client is closed', undefined));
    const conn = this.idle.pop();
    if (conn !== undefined) {
      clearTimeout(this.idleTimers.get(conn));
      this.idleTimers.delete(conn);
      return Promise.resolve(conn);
    }
    if (this.open < this.options.connectionsPerOrigin) return this.connect(connectTimeoutMs);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async connect(connectTimeoutMs: number): Promise<Connection> {
    this.open++;
    try {
      const conn = await Connection.open(this.origin, this.options, this.options.idleTimeoutMs, connectTimeoutMs, this.options.tls);
      conn.onClose = () => this.closedConnection(conn);
      return conn;
    } catch (err) {
      this.open--;
      this.serveWaiter();
      throw err instanceof ExchangeError ? new Http1Error(err.message, err.code) : err;
    }
  }

  /** Back to the idle list if it can carry another request, else closed. */
  private release(conn: Connection): void {
    if (!conn.reusable) {
      conn.destroy(); // its close event does the bookkeeping (closedConnection)
      return;
    }
    if (this.closed) {
      conn.destroy();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(conn);
      return;
    }
    this.idle.push(conn);
    this.idleTimers.set(
      conn,
      setTimeout(() => {
        const at = this.idle.indexOf(conn);
        if (at >= 0) this.idle.splice(at, 1);
        this.discard(conn);
      }, conn.idleMs).unref(),
    );
  }

  private discard(conn: Connection): void {
    clearTimeout(this.idleTimers.get(conn));
    this.idleTimers.delete(conn);
    conn.destroy();
  }

  private closedConnection(conn: Connection): void {
    this.open--;
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    clearTimeout(this.idleTimers.get(conn));
    this.idleTimers.delete(conn);
    this.serveWaiter();
  }

  /** A connection slot came free: open one for the longest waiter. */
  private serveWaiter(): void {
    if (this.closed || this.waiters.length === 0 || this.open >= this.options.connectionsPerOrigin) return;
    const waiter = this.waiters.shift()!;
    this.connect(WAITER_CONNECT_TIMEOUT_MS).then(
      (conn) => waiter.resolve(conn),
      (err: Error) => waiter.reject(err),
    );
  }
}
