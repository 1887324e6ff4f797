import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertStreamName } from '../../../core/names.js';
import type { HeraldConfig } from '../../../config/schema.js';
import { parseLiveRequest, sseFormat, type Query } from '../../../delivery/liveRequest.js';
import { LiveService } from '../../../delivery/liveService.js';
import { SseTransport } from '../../../delivery/sse.js';
import { attachWebSocket, bearerFromQuery } from '../../../delivery/websocket.js';
import type { AccessControl } from '../auth.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { errorBody } from '../errors.js';
import { errorResponses, streamParams } from '../schemas.js';

export const SSE_ROUTE = '/streams/:stream/sse';
export const WS_ROUTE = '/streams/:stream/ws';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The token may also come as the `access_token` query parameter: browsers' EventSource and
     * WebSocket cannot send an Authorization header.
     */
    queryToken?: boolean;
  }
}

export interface LiveRouteOptions {
  live: HeraldConfig['live'];
  acl: AccessControl | undefined;
}

const LIVE_QUERY_DOC =
  'Query: after=<seq> (or lastEventId; the Last-Event-ID header wins; 0 replays from the earliest event; none: from now), ' +
  'type=<type> and subject=<subject> filters (repeatable, * matches any run of characters), access_token=<token> for clients that cannot send headers.';

/**
 * Live push on the HTTP listener (docs/live.md): Server-Sent Events at `GET /streams/:stream/sse`
 * and WebSocket upgrades at `/streams/:stream/ws`. Both end when the listener stops.
 */
export function liveRoutes(app: FastifyInstance, ctx: HttpContext, options: LiveRouteOptions): void {
  const { hub } = ctx;
  const service = new LiveService(hub, options.live, ctx.log);
  const detach = attachWebSocket(app.server, { live: service, acl: options.acl, log: ctx.log });
  // Live responses never end by themselves: close them before the server waits for its
  // connections to finish.
  app.addHook('preClose', (done) => {
    detach();
    service.close();
    done();
  });

  app.get<{ Params: { stream: string } }>(SSE_ROUTE, {
    config: { access: 'read', queryToken: true },
    schema: {
      summary: 'Follow a stream as Server-Sent Events: stored events after a position, then live ones',
      description: `${LIVE_QUERY_DOC} format=envelope sends each event as JSON in data:. Frames: id: seq, event: type, data: payload; event: herald.gap when retention removed requested events (also the Herald-Events-Missed header).`,
      params: streamParams,
      response: errorResponses(400, 401, 403),
    },
  }, async (request, reply) => {
    const { stream } = request.params;
    assertStreamName(stream);
    const live = parseLiveRequest(request.query as Query, request.headers['last-event-id']);
    const after = live.after ?? hub.store.head(stream);
    const missed = await service.missedAtStart(stream, live.after);
    reply.hijack();
    const transport = new SseTransport(reply.raw, sseFormat(live.format));
    transport.open(missed, options.live.retryMs, after);
    const { closed } = service.open(stream, after, live.filter, transport);
    reply.raw.on('close', closed);
  });

  app.get<{ Params: { stream: string } }>(WS_ROUTE, {
    config: { access: 'read', queryToken: true },
    schema: {
      summary: 'Follow a stream over WebSocket (an upgrade request; a plain GET is answered 426)',
      description: `${LIVE_QUERY_DOC} Each message is one event as JSON; {"control":"gap",…} when retention removed requested events.`,
      params: streamParams,
      response: errorResponses(400, 401, 403),
    },
  }, async (_request, reply) => {
    reply.code(426).header('upgrade', 'websocket').header('content-type', JSON_CONTENT_TYPE);
    return errorBody('bad_request', 'this endpoint speaks WebSocket: send an upgrade request (Connection: Upgrade, Upgrade: websocket)');
  });
}

/** The `access_token` query parameter as an Authorization value, on routes that allow it. */
export function queryBearer(request: FastifyRequest): string | undefined {
  if (request.routeOptions.config.queryToken !== true) return undefined;
  return bearerFromQuery(request.query as Query);
}
