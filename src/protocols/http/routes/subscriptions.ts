import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { WebhookService } from '../../../delivery/webhooks/service.js';
import { createSubscriptionSchema, updateSubscriptionSchema } from '../../../delivery/webhooks/subscription.js';
import { authorize } from '../auth.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { parseJsonBody } from '../jsonBody.js';
import { errorResponses } from '../schemas.js';

interface IdParams {
  id: string;
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 200 } } } as const;
const seqParams = { type: 'object', required: ['id', 'seq'], properties: { id: { type: 'string', maxLength: 200 }, seq: { type: 'integer', minimum: 1 } } } as const;
const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
} as const;
const limitQuery = { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 } } } as const;

const replaySchema = z
  .object({ fromSeq: z.number().int().min(1).optional(), fromTime: z.iso.datetime({ offset: true }).optional() })
  .strict()
  .refine((r) => (r.fromSeq === undefined) !== (r.fromTime === undefined), { message: 'give exactly one of fromSeq and fromTime' });

const subscriptionSchema = {
  type: 'object',
  required: ['id', 'stream', 'url', 'state', 'status'],
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    stream: { type: 'string' },
    url: { type: 'string' },
    state: { type: 'string', enum: ['active', 'paused', 'disabled'] },
    status: { type: 'object', additionalProperties: true },
  },
} as const;

/** Webhook subscriptions: create, list, inspect, change, pause/resume, delete; attempts, dead letters, redrive, replay. */
export function subscriptionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const webhooks = ctx.webhooks;
  if (webhooks === undefined) return;
  const json = (value: unknown): string => JSON.stringify(value);
  /** The token must hold `action` on the subscription's stream (no tokens configured: no checks). */
  const allowed = (request: FastifyRequest, action: 'read' | 'admin', stream: string): void => {
    if (request.principal !== undefined) authorize(request.principal, action, stream);
  };
  const subscription = (request: FastifyRequest<{ Params: IdParams }>, action: 'read' | 'admin'): ReturnType<WebhookService['get']> => {
    const sub = webhooks.get(request.params.id);
    allowed(request, action, sub.stream);
    return sub;
  };

  app.post('/subscriptions', {
    config: { access: 'token' },
    schema: {
      summary: 'Subscribe a webhook endpoint to a stream',
      description: 'Body: {stream, url, secret?, filter?: {types?, subjects?}, description?, maxInFlight?, rateLimit? (attempts per second), pipelining? (requests per connection at once), timeoutMs?, retrySchedule?, policy?: "durable"|"gosep", buffer?, headers?, start?: "now"|"earliest"|seq}. The answer carries the signing secret; it is never shown again.',
      response: { 201: { type: 'object', required: ['subscription', 'secret'], properties: { subscription: subscriptionSchema, secret: { type: 'string' } } }, ...errorResponses(400, 401, 403, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const input = parseJsonBody(createSubscriptionSchema, request.body as Buffer | undefined, request.headers['content-type'], 'the subscription');
    allowed(request, 'admin', input.stream);
    const created = await webhooks.create(input);
    reply.code(201).header('content-type', JSON_CONTENT_TYPE).header('location', `/subscriptions/${created.subscription.id}`);
    return json(created);
  });

  app.get('/subscriptions', {
    config: { access: 'token' },
    schema: { summary: 'List subscriptions (those on streams the token may read)', response: { 200: { type: 'object', required: ['subscriptions'], properties: { subscriptions: { type: 'array', items: subscriptionSchema } } }, ...errorResponses(401) } },
  }, async (request, reply) => {
    const { principal } = request;
    const subscriptions = webhooks.list().filter((s) => principal === undefined || principal.can('read', s.stream));
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json({ subscriptions });
  });

  app.get<{ Params: IdParams }>('/subscriptions/:id', {
    config: { access: 'token' },
    schema: { summary: 'A subscription with its delivery status (position, lag, breaker, counts)', params: idParams, response: { 200: subscriptionSchema, ...errorResponses(401, 403, 404) } },
  }, async (request, reply) => {
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json(subscription(request, 'read'));
  });

  app.patch<{ Params: IdParams }>('/subscriptions/:id', {
    config: { access: 'token' },
    schema: { summary: 'Change a subscription; a new secret rotates it (the old one keeps signing for the grace period)', params: idParams, response: { 200: subscriptionSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) } },
  }, async (request, reply) => {
    subscription(request, 'admin');
    const patch = parseJsonBody(updateSubscriptionSchema, request.body as Buffer | undefined, request.headers['content-type'], 'the subscription');
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json(await webhooks.update(request.params.id, patch));
  });

  app.delete<{ Params: IdParams }>('/subscriptions/:id', {
    config: { access: 'token' },
    schema: { summary: 'Delete a subscription (its position and dead letters go with it)', params: idParams, response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404, 409, 503) } },
  }, async (request, reply) => {
    subscription(request, 'admin');
    await webhooks.delete(request.params.id);
    reply.code(204);
    return '';
  });

  for (const [action, state] of [['pause', 'paused'], ['resume', 'active']] as const) {
    app.post<{ Params: IdParams }>(`/subscriptions/:id/${action}`, {
      config: { access: 'token' },
      schema: { summary: action === 'pause' ? 'Pause delivery (the backlog waits on disk)' : 'Resume delivery (also re-enables a disabled endpoint)', params: idParams, response: { 200: subscriptionSchema, ...errorResponses(401, 403, 404, 503) } },
    }, async (request, reply) => {
      subscription(request, 'admin');
      reply.header('content-type', JSON_CONTENT_TYPE);
      return json(await webhooks.setState(request.params.id, state));
    });
  }

  app.post<{ Params: IdParams }>('/subscriptions/:id/rotate-secret', {
    config: { access: 'token' },
    schema: { summary: 'Generate a new signing secret (returned once); the old one keeps signing for the grace period', params: idParams, response: { 200: { type: 'object', required: ['subscription', 'secret'], properties: { subscription: subscriptionSchema, secret: { type: 'string' } } }, ...errorResponses(401, 403, 404, 503) } },
  }, async (request, reply) => {
    subscription(request, 'admin');
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json(await webhooks.rotateSecret(request.params.id));
  });

  app.post<{ Params: IdParams }>('/subscriptions/:id/test', {
    config: { access: 'token' },
    schema: {
      summary: 'Send one signed test event (type herald.test, seq 0) to the endpoint now; nothing is stored and the lane is untouched',
      params: idParams,
      response: {
        200: {
          type: 'object',
          required: ['eventId', 'delivered', 'latencyMs'],
          properties: { eventId: { type: 'string' }, delivered: { type: 'boolean' }, status: { type: 'integer' }, error: { type: 'string' }, latencyMs: { type: 'number' }, response: { type: 'string' } },
        },
        ...errorResponses(401, 403, 404),
      },
    },
  }, async (request, reply) => {
    subscription(request, 'admin');
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json(await webhooks.sendTest(request.params.id));
  });

  app.get<{ Params: IdParams; Querystring: { limit?: number } }>('/subscriptions/:id/attempts', {
    config: { access: 'token' },
    schema: { summary: 'Recent delivery attempts, newest first (time, seq, status, latency, error)', params: idParams, querystring: limitQuery, response: { 200: { type: 'object', required: ['attempts'], properties: { attempts: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    subscription(request, 'read');
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json({ attempts: webhooks.attempts(request.params.id, request.query.limit) });
  });

  app.get<{ Params: IdParams; Querystring: { after?: number; limit?: number } }>('/subscriptions/:id/dead-letters', {
    config: { access: 'token' },
    schema: { summary: 'Events that exhausted their retries, in seq order', params: idParams, querystring: pageQuery, response: { 200: { type: 'object', required: ['deadLetters'], properties: { deadLetters: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses(400, 401, 403, 404) } },
  }, async (request, reply) => {
    subscription(request, 'read');
    const { after, limit } = request.query;
    reply.header('content-type', JSON_CONTENT_TYPE);
    return json({ deadLetters: await webhooks.deadLetters(request.params.id, { ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit } : {}) }) });
  });

  app.post<{ Params: IdParams }>('/subscriptions/:id/dead-letters/redrive', {
    config: { access: 'token' },
    schema: { summary: 'Redeliver every dead letter', params: idParams, response: { 202: { type: 'object', required: ['redriven'], properties: { redriven: { type: 'integer' } } }, ...errorResponses(401, 403, 404, 503) } },
  }, async (request, reply) => {
    subscription(request, 'admin');
    reply.code(202).header('content-type', JSON_CONTENT_TYPE);
    return json({ redriven: await webhooks.redrive(request.params.id) });
  });

  app.post<{ Params: IdParams & { seq: number } }>('/subscriptions/:id/dead-letters/:seq/redrive', {
    config: { access: 'token' },
    schema: { summary: 'Redeliver one dead letter', params: seqParams, response: { 202: { type: 'object', required: ['redriven'], properties: { redriven: { type: 'integer' } } }, ...errorResponses(400, 401, 403, 404, 503) } },
  }, async (request, reply) => {
    subscription(request, 'admin');
    reply.code(202).header('content-type', JSON_CONTENT_TYPE);
    return json({ redriven: await webhooks.redrive(request.params.id, request.params.seq) });
  });

  app.post<{ Params: IdParams }>('/subscriptions/:id/replay', {
    config: { access: 'token' },
    schema: { summary: 'Deliver again from a seq or a time: {"fromSeq": n} or {"fromTime": "RFC 3339"}', params: idParams, response: { 202: { type: 'object', required: ['fromSeq'], properties: { fromSeq: { type: 'integer' } } }, ...errorResponses(400, 401, 403, 404, 413, 415, 503) } },
  }, async (request, reply) => {
    subscription(request, 'admin');
    const body = parseJsonBody(replaySchema, request.body as Buffer | undefined, request.headers['content-type'], 'the replay request');
    const from = body.fromSeq !== undefined ? { seq: body.fromSeq } : { time: body.fromTime! };
    reply.code(202).header('content-type', JSON_CONTENT_TYPE);
    return json(await webhooks.replay(request.params.id, from));
  });
}
