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
  /**
   * Requests a connection may carry at once, this one included (HTTP/1.1 pipelining); 1, the
   * default, waits for a connection with nothing in flight.
   */
  pipelining?: number;
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
    const depth = req.pipelining ?? 1;
    for (let attempt = 0; ; attempt++) {
      try {
        return await pool.run(deadline, signal, depth, (conn) => conn.exchange(bytes, headRequest, depth > 1), attempt > 0);
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
  /** The pipelining depth it accepts: a connection carrying fewer requests than this will do. */
  depth: number;
  resolve(conn: Connection): void;
  reject(err: Error): void;
}

/** A connection of the pool, open or being opened, and the requests it has been given (taken, not yet released). */
interface Slot {
  /** Set once connected. */
  conn: Connection | undefined;
  ready: Promise<Connection>;
  load: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * The connections to one origin, at most `connectionsPerOrigin` open. A request takes the
 * connection with the most requests below its pipelining depth (with depth 1: an idle one, the
 * most recently used first, so surplus connections idle out), else a new connection, else waits.
 */
class OriginPool {
  /** Connections open or opening, least recently idle first. */
  private readonly slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  /** Connections open or being opened. */
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
  async run(deadline: number, signal: AbortSignal | undefined, depth: number, exchange: (conn: Connection) => Promise<ParsedResponse>, fresh: boolean): Promise<ParsedResponse> {
    if (fresh) for (const slot of this.slots.filter((s) => s.load === 0)) slot.conn?.destroy();
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
        this.acquire(depth, timeoutMs).then((c) => {
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
        if (!err.responseStarted && conn !== undefined && (err.behind || conn.uses > 0)) throw new StaleConnectionError(err.message, err.code);
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
    for (const slot of this.slots) if (slot.load === 0) slot.conn?.destroy();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Http1Error('the client is closed', undefined));
  }

  /**
   * A connection: one with room (a pipelined request may join one still connecting), a new one
   * (connecting for at most `connectTimeoutMs`), or the next one with room.
   */
  private acquire(depth: number, connectTimeoutMs: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new Http1Error('the client is closed', undefined));
    const slot = this.roomiest(depth) ?? (this.open < this.options.connectionsPerOrigin ? this.connect(connectTimeoutMs) : undefined);
    if (slot !== undefined) return this.take(slot);
    return new Promise((resolve, reject) => this.waiters.push({ depth, resolve, reject }));
  }

  /** The usable connection carrying the most requests below `depth` (the latest among equals), if any. */
  private roomiest(depth: number): Slot | undefined {
    let best: Slot | undefined;
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const slot = this.slots[i]!;
      if (slot.load < depth && (slot.conn === undefined || slot.conn.reusable) && (best === undefined || slot.load > best.load)) best = slot;
    }
    return best;
  }

  private take(slot: Slot): Promise<Connection> {
    slot.load++;
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    return slot.ready;
  }

  /** A slot for a new connection, in the pool at once so that pipelined requests can join it. */
  private connect(connectTimeoutMs: number): Slot {
    this.open++;
    const slot: Slot = { conn: undefined, ready: undefined!, load: 0, idleTimer: undefined };
    slot.ready = Connection.open(this.origin, this.options, this.options.idleTimeoutMs, connectTimeoutMs, this.options.tls).then(
      (conn) => {
        slot.conn = conn;
        conn.onClose = () => this.closedConnection(slot);
        return conn;
      },
      (err: unknown) => {
        this.open--;
        this.slots.splice(this.slots.indexOf(slot), 1);
        this.serveWaiter();
        throw err instanceof ExchangeError ? new Http1Error(err.message, err.code) : err;
      },
    );
    this.slots.push(slot);
    return slot;
  }

  /** A request is done with its connection: the connection serves a waiter, idles, or closes. */
  private release(conn: Connection): void {
    const at = this.slots.findIndex((s) => s.conn === conn);
    if (at < 0) return; // already closed
    const slot = this.slots[at]!;
    slot.load--;
    if (!conn.reusable || this.closed) {
      if (slot.load === 0) conn.destroy(); // its close event does the bookkeeping (closedConnection)
      return;
    }
    const waiter = this.waiters.findIndex((w) => slot.load < w.depth);
    if (waiter >= 0) {
      this.take(slot).then(this.waiters.splice(waiter, 1)[0]!.resolve);
      return;
    }
    if (slot.load > 0) return;
    // Idle: to the end of the list, the first choice for the next request.
    this.slots.splice(at, 1);
    this.slots.push(slot);
    slot.idleTimer = setTimeout(() => conn.destroy(), conn.idleMs).unref();
  }

  private closedConnection(slot: Slot): void {
    this.open--;
    clearTimeout(slot.idleTimer);
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    this.serveWaiter();
  }

  /** A connection slot came free: open one for the longest waiter. */
  private serveWaiter(): void {
    if (this.closed || this.waiters.length === 0 || this.open >= this.options.connectionsPerOrigin) return;
    const waiter = this.waiters.shift()!;
    this.take(this.connect(WAITER_CONNECT_TIMEOUT_MS)).then(waiter.resolve, waiter.reject);
  }
}
