import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HeraldError } from '../../../core/errors.js';
import { assertStreamName } from '../../../core/names.js';
import type { StreamOptions } from '../../../store/types.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { parseJsonBody } from '../jsonBody.js';
import { errorResponses, streamInfoSchema, streamParams } from '../schemas.js';

interface StreamParams {
  stream: string;
}

/** The PUT body. Strict, so a misspelt field is an error rather than silently ignored. */
const streamOptionsSchema = z
  .object({
    retention: z
      .object({
        maxCount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
        maxAgeMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Listing, inspecting, creating/updating and deleting streams. */
export function streamRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { hub } = ctx;

  app.get('/streams', {
    config: { access: 'list' },
    schema: {
      summary: 'List streams (those the token may read)',
      response: {
        200: { type: 'object', required: ['streams'], properties: { streams: { type: 'array', items: streamInfoSchema } } },
        ...errorResponses(401, 403, 503),
      },
    },
  }, async (request, reply) => {
    const { principal } = request;
    let streams = await hub.listStreams();
    if (principal !== undefined) streams = streams.filter((s) => principal.can('read', s.name));
    reply.header('content-type', JSON_CONTENT_TYPE);
    return JSON.stringify({ streams });
  });

  app.get<{ Params: StreamParams }>('/streams/:stream', {
    config: { access: 'read' },
    schema: { summary: 'A stream: count, firstSeq, lastSeq, bytes, created, retention', params: streamParams, response: { 200: streamInfoSchema, ...errorResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const { stream } = request.params;
    assertStreamName(stream);
    const info = await hub.getStream(stream);
    if (info === undefined) throw notFound(stream);
    reply.header('content-type', JSON_CONTENT_TYPE);
    return JSON.stringify(info);
  });

  app.put<{ Params: StreamParams }>('/streams/:stream', {
    config: { access: 'admin' },
    schema: {
      summary: 'Create (201) or update (200) a stream',
      description: 'Body: {"retention": {"maxCount"?, "maxAgeMs"?}}; an empty body creates a stream with the default retention.',
      params: streamParams,
      response: { 200: streamInfoSchema, 201: streamInfoSchema, ...errorResponses(400, 401, 403, 409, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const { stream } = request.params;
    assertStreamName(stream);
    const options = parseStreamOptions(request.body as Buffer | undefined, request.headers['content-type']);
    const { info, created } = await hub.putStream(stream, options);
    reply.code(created ? 201 : 200).header('content-type', JSON_CONTENT_TYPE);
    return JSON.stringify(info);
  });

  app.delete<{ Params: StreamParams }>('/streams/:stream', {
    config: { access: 'admin' },
    schema: { summary: 'Delete a stream and its events', params: streamParams, response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 503) } },
  }, async (request, reply) => {
    const { stream } = request.params;
    assertStreamName(stream);
    if (!(await hub.deleteStream(stream))) throw notFound(stream);
    reply.code(204);
    return '';
  });
}

function notFound(stream: string): HeraldError {
  return new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
}

/** The PUT body → StreamOptions; 400 naming the first bad field, 415 for a non-JSON body. */
export function parseStreamOptions(body: Buffer | undefined, contentType: string | undefined): StreamOptions {
  const parsed = parseJsonBody(streamOptionsSchema, body, contentType, 'the stream settings');
  const options: StreamOptions = {};
  if (parsed.retention !== undefined) options.retention = parsed.retention;
  return options;
}
