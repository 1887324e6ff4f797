import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { HeraldError } from '../core/errors.js';
import { assertStreamName } from '../core/names.js';
import type { Logger } from '../observability/logger.js';
import { authorize, type AccessControl } from '../protocols/http/auth.js';
import { errorBody, toHttpError } from '../protocols/http/errors.js';
import type { LiveBatch, LiveEvent } from './liveEvent.js';
import { parseLiveRequest, type Query } from './liveRequest.js';
import type { LiveService } from './liveService.js';
import type { CloseReason, Gap, LiveTransport } from './liveSession.js';

/** `/streams/<name>/ws`: the WebSocket endpoint of a stream. */
const WS_PATH = /^\/streams\/([^/?]+)\/ws$/;

/** Bytes queued past which a replaying connection waits for the client before sending more. */
const HIGH_WATER = 64 * 1024;

/** WebSocket close codes Herald uses (RFC 6455 §7.4.1; 1013 from the IANA registry). */
export const WS_CLOSE = { shutdown: 1001, error: 1011, slow: 1013 } as const;

/**
 * WebSocket live push: each event is one text message, the event as JSON
 * (`{"stream","seq","id","type","time",…,"data"|"data_base64"}`, as `GET …/events` renders it);
 * a gap is `{"control":"gap","after","next","missed"}`. Messages from the client are ignored.
 */
export class WsTransport implements LiveTransport {
  readonly protocol = 'websocket';
  private awaitingPong = false;
  private ended = false;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly ws: WebSocket) {
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  sendEvent(event: LiveEvent): boolean {
    return this.send(event.frame('ws'));
  }

  sendBatch(batch: LiveBatch): boolean {
    let ok = true;
    for (const event of batch.events) ok = this.send(event.frame('ws'));
    return ok;
  }

  sendGap(gap: Gap): void {
    this.send(Buffer.from(JSON.stringify({ control: 'gap', ...gap })));
  }

  /** Pings an idle connection; one that did not answer the previous ping is cut off. */
  heartbeat(): void {
    if (this.awaitingPong) {
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    this.ws.ping();
  }

  drained(): Promise<void> {
    if (this.ended || this.ws.readyState !== WebSocket.OPEN || this.ws.bufferedAmount <= HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.wakeDrainWaiters();
    if (reason === 'peer') return;
    const code = WS_CLOSE[reason];
    // A close frame goes out after what is queued; ws cuts the socket if the client does not
    // answer within its close timeout (30 s), so a stuck client holds its buffer no longer.
    this.ws.close(code, reason === 'slow' ? 'slow consumer: reconnect with after=<last seq>' : reason);
  }

  private send(frame: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return true;
    if (this.ws.bufferedAmount + frame.length > HIGH_WATER) {
      // The callback runs once this frame (and so all before it) reached the kernel.
      this.ws.send(frame, { binary: false }, () => this.wakeDrainWaiters());
      return false;
    }
    this.ws.send(frame, { binary: false });
    return true;
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

export interface WebSocketOptions {
  live: LiveService;
  /** Undefined when no tokens are configured. */
  acl: AccessControl | undefined;
  log: Logger;
}

/**
 * Serves WebSocket upgrades of `/streams/<name>/ws` on the HTTP listener's server. The token
 * comes from the Authorization header or, for browsers (whose WebSocket cannot set headers),
 * the `access_token` query parameter. A refused upgrade is answered as a plain HTTP error.
 * Returns the function that detaches it.
 */
export function attachWebSocket(server: Server, options: WebSocketOptions): () => void {
  const { live, acl, log } = options;
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: live.config.wsMaxMessageBytes });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let stream: string;
    let query: Query;
    let after: number | undefined;
    let filter: ReturnType<typeof parseLiveRequest>['filter'];
    try {
      ({ stream, query } = route(req.url ?? '/'));
      if (acl !== undefined) authorize(acl.authenticate(req.headers.authorization ?? bearerFromQuery(query)), 'read', stream);
      ({ after, filter } = parseLiveRequest(query, undefined));
    } catch (err) {
      refuse(socket, err);
      return;
    }
    const startAt = after;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const transport = new WsTransport(ws);
      const { closed } = live.open(stream, startAt ?? live.hub.store.head(stream), filter, transport);
      ws.on('close', closed);
      ws.on('error', (err) => log.debug({ err, stream }, 'websocket error'));
    });
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    wss.close();
  };
}

function route(url: string): { stream: string; query: Query } {
  const parsed = new URL(url, 'http://herald.invalid');
  const match = WS_PATH.exec(parsed.pathname);
  if (match === null) throw new HeraldError('not_found', `no WebSocket endpoint at ${parsed.pathname.slice(0, 200)}: use /streams/<stream>/ws`);
  let stream: string;
  try {
    stream = decodeURIComponent(match[1]!);
  } catch {
    throw new HeraldError('invalid_stream_name', 'the stream name is not valid percent-encoding');
  }
  assertStreamName(stream);
  const query: Query = {};
  for (const [key, value] of parsed.searchParams) {
    const prev = query[key];
    query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { stream, query };
}

/** `access_token=<token>` as an Authorization header value, for clients that cannot set headers. */
export function bearerFromQuery(query: Query): string | undefined {
  const token = query.access_token;
  if (token === undefined) return undefined;
  if (Array.isArray(token)) throw new HeraldError('bad_request', 'access_token given more than once');
  return `Bearer ${token}`;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers a refused upgrade with the HTTP error shape every other route uses, then closes. */
function refuse(socket: Duplex, err: unknown): void {
  const e = toHttpError(err, 0);
  const body = errorBody(e.code, e.message);
  const extra = Object.entries(e.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = `HTTP/1.1 ${e.status} ${REASONS[e.status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n`;
  socket.end(head + body, () => socket.destroy());
}
