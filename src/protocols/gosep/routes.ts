import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { HeraldConfig } from '../../config/schema.js';
import { DEFAULT_CONTENT_TYPE } from '../../core/event.js';
import { METHOD_HEADER } from '../../delivery/webhooks/request.js';
import { authorize } from '../http/auth.js';
import type { HttpContext } from '../http/context.js';
import { startQueueReport } from './report.js';

/** go-sep answers as Go's sniffing left it: plain text, although the body looks like JSON. */
const TEXT = 'text/plain; charset=utf-8';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * go-sep ingest (compat.md §1): any method on `/<queue>` stores the request as an event of the
 * stream `<queue>` (method, headers and body kept for forwarding) and answers
 * `{ "id":"<uuid>" }` — after the event is durable, where go-sep answered before queueing it.
 * Each target of the queue is a subscription with the go-sep policy (see delivery/webhooks/declared.ts).
 */
export function gosepRoutes(app: FastifyInstance, ctx: HttpContext, gosep: HeraldConfig['gosep']): void {
  const queues = Object.keys(gosep.queues);
  if (queues.length === 0) return;
  const log = ctx.log.child({ component: 'gosep' });
  for (const queue of queues) {
    log.info({ queue }, `registering queue @ /${queue}`);
    app.route({
      method: METHODS,
      url: `/${queue}`,
      config: { access: 'token' },
      schema: { summary: `go-sep queue ${queue}: any method; the request is stored in stream ${queue} and forwarded to its targets` },
      handler: async (request, reply) => {
        if (request.principal !== undefined) authorize(request.principal, 'publish', queue);
        const id = randomUUID();
        const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
        await ctx.hub.publish({
          stream: queue,
          id,
          type: 'gosep.event',
          contentType: request.headers['content-type'] ?? DEFAULT_CONTENT_TYPE,
          data: body,
          headers: forwardedHeaders(request.method, request.headers),
        });
        reply.code(200).header('content-type', TEXT);
        return `{ "id":"${id}" }\n`;
      },
    });
  }
  if (ctx.webhooks !== undefined) {
    const webhooks = ctx.webhooks;
    let stop: (() => void) | undefined;
    app.addHook('onReady', async () => {
      stop = startQueueReport(webhooks, gosep, log);
    });
    app.addHook('onClose', async () => stop?.());
  }
}

/** The request's headers as stored with the event: every value, joined as HTTP allows, plus the method. */
function forwardedHeaders(method: string, headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = { [METHOD_HEADER]: method };
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
