import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { Hub } from '../../core/hub.js';
import { isValidStreamName } from '../../core/names.js';
import type { HeraldConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { authorize, type AccessControl } from './auth.js';
import type { CorsPolicy } from './cors.js';
import { JSON_CONTENT_TYPE } from './context.js';
import { errorBody, toHttpError } from './errors.js';
import { ingest } from './ingest.js';
import type { HttpMetrics } from './metrics.js';
import { publishedBody } from './render.js';
import { EVENTS_ROUTE } from './routes/events.js';

/**
 * The raw node:http fast path for the hottest request there is: one event POSTed to
 * `/streams/<name>/events`. Fastify's per-request machinery (request/reply objects, hooks,
 * async-resource body parsing, reply serialization checks) costs about as much CPU as node's
 * own HTTP handling; skipping it is what lets a durable publish keep up with a bare server.
 *
 * It takes only requests whose handling is decided by their head alone and needs nothing but
 * ingest.ts, the hub and errors.ts, which the fastify route uses too, so both answer the same
 * (test/http/fastpath.test.ts compares them): POST, a plain valid stream name with no
 * percent-encoding and no query string, a Content-Length within the body limit, and one of a
 * few common exact Content-Types. Everything else (batches, CloudEvents structured mode,
 * odd media types, chunked bodies, 413s) goes to fastify unchanged, as does every request
 * once the listener is stopping.
 */
export class FastPath {
  /** Cleared by the listener's stop(): draining is fastify's job. */
  enabled = true;
  /** Requests taken so far (tests check the fast path is really used). */
  handled = 0;
  private readonly bodyLimit: number;
  private readonly maxBatch: number;
  private readonly publishOptions: { createStreams: boolean };

  constructor(
    private readonly hub: Hub,
    config: HeraldConfig,
    private readonly acl: AccessControl | undefined,
    private readonly cors: CorsPolicy | undefined,
    private readonly metrics: HttpMetrics,
    private readonly log: Logger,
  ) {
    this.bodyLimit = config.http.bodyLimit;
    this.maxBatch = config.http.maxBatchEvents;
    this.publishOptions = { createStreams: config.http.createStreamsOnPublish };
  }

  /** A fastify `serverFactory`: the fast path in front of fastify's own handler. */
  serverFactory(): FastifyServerFactory {
    return (fastifyHandler, rawOptions): Server => {
      const options = rawOptions as { http?: ServerOptions | null; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      const handler: RequestListener = (req, res) => {
        const stream = this.enabled ? this.streamOf(req) : undefined;
        if (stream === undefined) fastifyHandler(req, res);
        else this.publish(req, res, stream);
      };
      // What fastify sets up on the server it would have created itself.
      const server = createServer(options.http ?? {}, handler);
      if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
      if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
      if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
      return server;
    };
  }

  /** The stream name when the fast path takes this request, else undefined. */
  private streamOf(req: IncomingMessage): string | undefined {
    if (req.method !== 'POST') return undefined;
    const url = req.url!;
    // "/streams/" is 9 characters, "/events" 7.
    if (!url.startsWith('/streams/') || !url.endsWith('/events')) return undefined;
    const stream = url.slice(9, -7);
    // The name pattern excludes '/', '%' and '?', so this also rules out query strings and
    // anything the router would decode.
    if (!isValidStreamName(stream)) return undefined;
    const headers = req.headers;
    const type = headers['content-type'];
    if (type !== undefined && !FAST_TYPES.has(type)) return undefined;
    const length = headers['content-length'];
    if (length === undefined || headers['transfer-encoding'] !== undefined) return undefined;
    const n = Number(length);
    if (!(n <= this.bodyLimit)) return undefined;
    if (type === undefined && n === 0) return undefined; // fastify's no-body case; rare
    return stream;
  }

  private publish(req: IncomingMessage, res: ServerResponse, stream: string): void {
    const started = performance.now();
    this.handled++;
    this.cors?.apply(req, res);
    try {
      // Before reading the body, as fastify's onRequest hook does.
      if (this.acl !== undefined) authorize(this.acl.authenticate(req.headers.authorization), 'publish', stream);
    } catch (err) {
      this.fail(res, err, started);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // A copy, never a view of the socket's read buffer, which other requests share.
      const body = chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks);
      let event;
      try {
        const input = ingest(stream, req.headers, body, this.maxBatch);
        if (input.batch) throw new Error('fast path got a batch content type'); // FAST_TYPES are single-event types
        event = input.event;
      } catch (err) {
        this.fail(res, err, started);
        return;
      }
      this.hub.publish(event, this.publishOptions).then(
        (result) => this.send(res, result.duplicate ? 200 : 201, publishedBody(result), started),
        (err: unknown) => this.fail(res, err, started),
      );
    });
  }

  private send(res: ServerResponse, status: number, body: string, started: number, extra?: Record<string, string>): void {
    if (res.destroyed) return;
    // A flat [name, value, …] array: node's cheapest way to set response headers.
    const headers = ['content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(body))];
    if (extra !== undefined) for (const name in extra) headers.push(name, extra[name]!);
    res.writeHead(status, headers);
    res.end(body);
    this.metrics.record(EVENTS_ROUTE, 'POST', status, (performance.now() - started) / 1000);
  }

  private fail(res: ServerResponse, err: unknown, started: number): void {
    const e = toHttpError(err, this.bodyLimit);
    if (e.status >= 500) {
      const fields = { err, method: 'POST', route: EVENTS_ROUTE };
      if (e.status === 500) this.log.error(fields, 'request failed');
      else this.log.warn(fields, `request answered ${e.status}: ${e.message}`);
    }
    this.send(res, e.status, errorBody(e.code, e.message), started, e.headers);
  }
}

/**
 * Exact Content-Type values the fast path takes: common, valid, single-event types. Matching
 * exact strings keeps the media-type grammar (what fastify answers 415) out of the fast path.
 */
const FAST_TYPES = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
  'application/json; charset=UTF-8',
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-8',
  'text/plain;charset=utf-8',
]);
