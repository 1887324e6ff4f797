import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../../../core/errors.js';
import { assertStreamName } from '../../../core/names.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import type { AppendResult } from '../../../core/event.js';
import { ingest, type Ingested } from '../ingest.js';
import { batchBody, eventsPageBody, publishedBody } from '../render.js';
import { errorResponses, eventsPageSchema, publishResponseSchema, streamParams } from '../schemas.js';

export const EVENTS_ROUTE = '/streams/:stream/events';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * Runs before schema validation, while the query values are still the raw strings: ajv's type
 * coercion would take "0x10", "1e2" or " " as numbers, and a position should be plain digits.
 */
function decimalQuery(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const query = request.query as Record<string, unknown>;
  for (const name of ['after', 'limit']) {
    const value = query[name];
    if (value !== undefined && (typeof value !== 'string' || !DIGITS.test(value))) {
      done(new HeraldError('bad_request', `${name} must be a whole number written in digits, got ${JSON.stringify(value).slice(0, 40)}`));
      return;
    }
  }
  done();
}
const DIGITS = /^[0-9]{1,16}$/;

interface StreamParams {
  stream: string;
}
interface PageQuery {
  after?: number;
  limit?: number;
}

/** Publishing (every content mode, see ingest.ts) and reading a page of events. */
export function eventRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { hub } = ctx;
  const publishOptions = { createStreams: ctx.http.createStreamsOnPublish };
  const maxBatch = ctx.http.maxBatchEvents;

  const publish = (input: Ingested): { single?: Promise<AppendResult>; batch?: Promise<AppendResult[]> } =>
    input.batch ? { batch: hub.publishBatch(input.events, publishOptions) } : { single: hub.publish(input.event, publishOptions) };

  app.post<{ Params: StreamParams }>(EVENTS_ROUTE, {
    config: { access: 'publish' },
    schema: {
      summary: 'Publish one event (the body is the payload; CloudEvents binary or structured mode) or a batch (NDJSON, CloudEvents batch)',
      params: streamParams,
      description: 'Idempotency-Key: the event id (wins over ce-id; in a batch, events without an id get <key>:<index>). A duplicate id answers 200 with the original position and stores nothing.',
      response: { 200: publishResponseSchema, 201: publishResponseSchema, ...errorResponses(400, 401, 403, 404, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const { stream } = request.params;
    assertStreamName(stream);
    reply.header('content-type', JSON_CONTENT_TYPE);
    // Resolves only after the durable commit, so a 2xx always means stored. No local holds the
    // ingested events while the commit runs (they are garbage once the store has encoded them).
    const published = publish(ingest(stream, request.headers, request.body as Buffer | undefined, maxBatch));
    if (published.single) {
      const result = await published.single;
      reply.code(result.duplicate ? 200 : 201);
      return publishedBody(result);
    }
    const results = await published.batch!;
    // 200 when every event was a duplicate: the request stored nothing, as for a single event.
    reply.code(results.some((r) => !r.duplicate) ? 201 : 200);
    return batchBody(stream, results);
  });

  app.get<{ Params: StreamParams; Querystring: PageQuery }>(EVENTS_ROUTE, {
    config: { access: 'read' },
    preValidation: decimalQuery,
    schema: {
      summary: 'Read stored events after a position',
      params: streamParams,
      querystring: {
        type: 'object',
        properties: {
          after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Return events with seq greater than this (default 0).' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, description: `At most this many events (default ${DEFAULT_PAGE}).` },
        },
      },
      response: { 200: eventsPageSchema, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const { stream } = request.params;
    assertStreamName(stream);
    const after = request.query.after ?? 0;
    const events = await hub.read(stream, { after, limit: request.query.limit ?? DEFAULT_PAGE });
    reply.header('content-type', JSON_CONTENT_TYPE);
    return eventsPageBody(events, after);
  });
}
