import { createServer, maxHeaderSize, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyServerFactory } from 'fastify';
import type { Hub } from '../../core/hub.js';
import type { HeraldConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { authorize, type AccessControl } from './auth.js';
import type { CorsPolicy } from './cors.js';
import { JSON_CONTENT_TYPE } from './context.js';
import { errorBody, toHttpError } from './errors.js';
import { FastConnection, type FastAnswer, type FastConnectionHost, type FastPublish } from './fastConnection.js';
import { streamOf, type FastRequestLimits } from './fastRequest.js';
import { ingest } from './ingest.js';
import type { HttpMetrics } from './metrics.js';
import { publishedBody } from './render.js';
import { EVENTS_ROUTE } from './routes/events.js';

/**
 * The socket fast path for the hottest request there is: one event POSTed to
 * `/streams/<name>/events`. node:http's request and response objects, streams and events, and
 * fastify's machinery on top, cost more CPU per request than the durable publish itself; here
 * the request is recognized in the bytes off the socket (fastRequest.ts) and the answer written
 * back as one string.
 *
 * Every connection starts here. It stays as long as its requests are such publishes; at the
 * first other request (a GET, a batch, a chunked body, an odd header, anything not certain),
 * node:http gets the connection from that request's first byte on (fastConnection.ts). On
 * those connections the same publishes still skip fastify: a request handler in front of it
 * takes them from node's request objects (publishRequest). All three ways answer alike, and
 * publish through the same serve(): ingest.ts, the hub and errors.ts
 * (test/http/fastpath.test.ts compares them with the fastify route).
 */
export class FastPath implements FastConnectionHost {
  /** Cleared by stop(): draining is node's and fastify's job. */
  enabled = true;
  /** Requests taken so far (tests check the fast path is really used). */
  handled = 0;
  readonly limits: FastRequestLimits;
  readonly keepAliveMs: number;
  private readonly keepAliveHeader: string;
  private readonly maxBatch: number;
  private readonly publishOptions: { createStreams: boolean };
  private readonly connections = new Set<FastConnection>();
  private nodeConnectionListener: ((socket: Socket) => void) | undefined;

  constructor(
    private readonly hub: Hub,
    config: HeraldConfig,
    private readonly acl: AccessControl | undefined,
    private readonly cors: CorsPolicy | undefined,
    private readonly metrics: HttpMetrics,
    private readonly log: Logger,
  ) {
    this.limits = { bodyLimit: config.http.bodyLimit, maxHeadBytes: maxHeaderSize };
    this.keepAliveMs = config.http.keepAliveTimeoutMs;
    this.keepAliveHeader = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.keepAliveMs / 1000)}\r\n`;
    this.maxBatch = config.http.maxBatchEvents;
    this.publishOptions = { createStreams: config.http.createStreamsOnPublish };
  }

  /** A fastify `serverFactory`: node's server, with the fast path taking its connections first. */
  serverFactory(): FastifyServerFactory {
    return (fastifyHandler, rawOptions): Server => {
      const options = rawOptions as { http?: ServerOptions | null; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      const handler: RequestListener = (req, res) => {
        const stream = this.enabled ? streamOf(req, this.limits.bodyLimit) : undefined;
        if (stream === undefined) fastifyHandler(req, res);
        else this.publishRequest(req, res, stream);
      };
      const server = createServer(options.http ?? {}, handler);
      // What fastify sets up on the server it would have created itself.
      if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
      if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
      if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
      // node:http's own connection handler is the only listener yet: the fast path goes in its
      // place and calls it for the connections it hands over. Listeners added later (the
      // listener's connection count) see every connection once, as before.
      const [nodeListener] = server.listeners('connection') as Array<(socket: Socket) => void>;
      server.removeListener('connection', nodeListener!);
      this.nodeConnectionListener = (socket) => nodeListener!.call(server, socket);
      server.on('connection', (socket: Socket) => {
        if (this.enabled) this.connections.add(new FastConnection(socket, this));
        else this.handOff(socket);
      });
      return server;
    };
  }

  /** Lets the listener drain: idle connections close, busy ones end or go to node:http when answered. */
  stop(): void {
    this.enabled = false;
    for (const connection of [...this.connections]) connection.stop();
  }

  handOff(socket: Socket): void {
    this.nodeConnectionListener!(socket);
  }

  forget(connection: FastConnection): void {
    this.connections.delete(connection);
  }

  serve(request: FastPublish): FastAnswer | Promise<FastAnswer> {
    const started = performance.now();
    this.handled++;
    const cors = this.cors?.headersFor(request.headers.origin);
    try {
      // Before the body is looked at, as fastify's onRequest hook does.
      if (this.acl !== undefined) authorize(this.acl.authenticate(request.headers.authorization), 'publish', request.stream);
      const input = ingest(request.stream, request.headers, request.body, this.maxBatch);
      if (input.batch) throw new Error('fast path got a batch content type'); // FAST_TYPES are single-event types
      return this.hub.publish(input.event, this.publishOptions).then(
        (result) => this.answer(result.duplicate ? 200 : 201, publishedBody(result), started, cors),
        (err: unknown) => this.fail(err, started, cors),
      );
    } catch (err) {
      return this.fail(err, started, cors);
    }
  }

  /** A publish on a connection node:http has: the same serve(), node's request and response. */
  private publishRequest(req: IncomingMessage, res: ServerResponse, stream: string): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // A copy, never a view of the socket's read buffer, which other requests share.
      const body = chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks);
      const write = (a: FastAnswer): void => {
        if (res.destroyed) return;
        res.writeHead(a.status, ['content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(a.body)), ...a.headers]);
        res.end(a.body);
      };
      const answer = this.serve({ stream, headers: req.headers as Record<string, string>, body });
      if (answer instanceof Promise) void answer.then(write);
      else write(answer);
    });
  }

  render(answer: FastAnswer, keepAlive: boolean): string {
    let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n`;
    const h = answer.headers;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    return `${head}Date: ${httpDate()}\r\n${keepAlive ? this.keepAliveHeader : 'Connection: close\r\n'}\r\n${answer.body}`;
  }

  private answer(status: number, body: string, started: number, cors: string[] | undefined, extra?: Record<string, string>): FastAnswer {
    const headers = cors ?? []; // headersFor gives a fresh array each time
    if (extra !== undefined) for (const name in extra) headers.push(name, extra[name]!);
    this.metrics.record(EVENTS_ROUTE, 'POST', status, (performance.now() - started) / 1000);
    return { status, body, headers };
  }

  private fail(err: unknown, started: number, cors: string[] | undefined): FastAnswer {
    const e = toHttpError(err, this.limits.bodyLimit);
    if (e.status >= 500) {
      const fields = { err, method: 'POST', route: EVENTS_ROUTE };
      if (e.status === 500) this.log.error(fields, 'request failed');
      else this.log.warn(fields, `request answered ${e.status}: ${e.message}`);
    }
    return this.answer(e.status, errorBody(e.code, e.message), started, cors, e.headers);
  }
}

let dateSecond = NaN;
let dateText = '';
/** The Date header's value (IMF-fixdate), formatted once a second as node does. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
