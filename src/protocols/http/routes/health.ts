import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../../core/errors.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { errorResponses } from '../schemas.js';

const statusSchema = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } as const;

/**
 * Liveness, readiness and metrics. /health and /ready need no token (orchestrators probe them
 * without credentials); /metrics needs read on every stream (its labels name every stream).
 */
export function healthRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { hub } = ctx;

  app.get('/health', {
    config: { access: 'none' },
    schema: { summary: 'Liveness: 200 while the process runs', response: { 200: statusSchema } },
  }, async (_request, reply) => {
    reply.header('content-type', JSON_CONTENT_TYPE);
    return '{"status":"ok"}';
  });

  app.get('/ready', {
    config: { access: 'none' },
    schema: { summary: 'Readiness: 200 while the store is open, else 503', response: { 200: statusSchema, ...errorResponses(503) } },
  }, async (_request, reply) => {
    if (!hub.store.isOpen) throw new HeraldError('store_closed', `the ${hub.store.kind} store is not open`);
    reply.header('content-type', JSON_CONTENT_TYPE);
    return '{"status":"ready"}';
  });

  app.get('/metrics', {
    config: { access: 'server' },
    schema: { summary: 'Prometheus metrics (text exposition format)', response: { 200: { type: 'string' }, ...errorResponses(401, 403) } },
  }, async (_request, reply) => {
    ctx.metrics.flush();
    const registry = hub.metrics.registry;
    const text = await registry.metrics();
    reply.header('content-type', registry.contentType);
    return text;
  });
}
