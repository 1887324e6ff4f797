import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../../core/errors.js';
import { authorize } from '../auth.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { errorResponses } from '../schemas.js';

/**
 * `GET /events/:id`: where an event id is stored ({stream, seq}), so a client (the dashboard's
 * "jump to id") can start reading there. Ids are unique across streams (the idempotency index).
 */
export function lookupRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { hub } = ctx;
  app.get<{ Params: { id: string } }>('/events/:id', {
    // The stream is only known after the lookup: the handler checks read on it.
    config: { access: 'token' },
    schema: {
      summary: 'Find an event by id: its stream and seq',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 1024 } } },
      response: { 200: { type: 'object', required: ['stream', 'seq'], properties: { stream: { type: 'string' }, seq: { type: 'integer' } } }, ...errorResponses(401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const found = await hub.store.lookupId(request.params.id);
    if (found === undefined) throw new HeraldError('not_found', `no stored event has id ${JSON.stringify(request.params.id.slice(0, 200))}`);
    // Same answer as a missing id for a stream the token may not read would leak less, but a 403 says why.
    authorize(request.principal, 'read', found.stream);
    reply.header('content-type', JSON_CONTENT_TYPE);
    return JSON.stringify(found);
  });
}
