import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import type { Hub } from '../../core/hub.js';
import { HeraldError } from '../../core/errors.js';
import type { HeraldConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { authorize, type AccessControl } from './auth.js';
import type { CorsPolicy } from './cors.js';
import { JSON_CONTENT_TYPE, type HttpContext } from './context.js';
import { errorBody, toHttpError, writeClientError } from './errors.js';
import { HttpMetrics, UNMATCHED_ROUTE } from './metrics.js';
import { eventRoutes } from './routes/events.js';
import { liveRoutes, queryBearer } from './routes/live.js';
import { healthRoutes } from './routes/health.js';
import { streamRoutes } from './routes/streams.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { gosepRoutes } from '../gosep/routes.js';
import type { WebhookService } from '../../delivery/webhooks/service.js';
import type { Listener } from '../../core/listener.js';
import { installOpenApi } from './routes/openapi.js';
import { operatorRoutes } from './routes/operator.js';

export interface AppOptions {
  hub: Hub;
  config: HeraldConfig;
  /** The `component: http` child logger. */
  log: Logger;
  /** Undefined when no tokens are configured: then nothing is checked. */
  acl: AccessControl | undefined;
  /** Undefined when no origin is allowed (CORS off). */
  cors?: CorsPolicy | undefined;
  /** Lets the listener put the fast path in front of fastify (see fastpath.ts). */
  serverFactory?: FastifyServerFactory;
  metrics: HttpMetrics;
  /** Webhook subscriptions (routes under /subscriptions), when delivery is enabled. */
  webhooks?: WebhookService | undefined;
  /** The server's listeners, for `GET /system` (the dashboard's overview). */
  listeners?: readonly Listener[];
}

/**
 * Stream names may be up to 200 characters, 3 bytes each when percent-encoded; anything longer
 * than this is answered 404 by the router rather than 400 by the name check.
 */
const MAX_PARAM_LENGTH = 2048;

/** The fastify application: body parsing, errors, access, metrics, routes. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { hub, config, log, acl } = options;
  const { bodyLimit } = config.http;
  const app = Fastify({
    // Fastify's per-request logging costs more than the rest of the hot path; errors are
    // logged by the error handler below.
    logger: false,
    bodyLimit,
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // Node checks request timeouts only this often (30 s by default), so a short timeout needs
    // a shorter interval to be kept.
    http: {
      headersTimeout: Math.min(60_000, config.http.requestTimeoutMs),
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(config.http.requestTimeoutMs / 4))),
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler: writeClientError,
    // While stopping, requests already on open connections are served (with Connection:
    // close) rather than refused: stop() lets in-flight work finish.
    return503OnClosing: false,
    ...(options.serverFactory !== undefined ? { serverFactory: options.serverFactory } : {}),
  });

  // Every body arrives as the raw bytes, whatever its type: payloads are stored byte-exact and
  // each route decides what to parse (ingest.ts for events).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, passBody);

  app.decorateRequest('principal', undefined);
  // Before access checks: a browser's preflight carries no credentials.
  const cors = options.cors;
  if (cors !== undefined) {
    app.addHook('onRequest', (request, reply, done) => {
      const preflight = cors.preflight(request.raw);
      if (preflight !== undefined) {
        reply.code(204).headers(preflight).send();
        return;
      }
      cors.apply(request.raw, reply.raw);
      done();
    });
  }
  if (acl !== undefined) {
    // onRequest runs before the body is read, so a refused request costs no body parsing.
    app.addHook('onRequest', (request, _reply, done) => {
      try {
        checkAccess(acl, request);
      } catch (err) {
        done(err as Error);
        return;
      }
      done();
    });
  }

  const { metrics } = options;
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL, keeps the label set bounded.
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.record(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, bodyLimit, log));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!.slice(0, 200);
    reply.code(404).header('content-type', JSON_CONTENT_TYPE).send(errorBody('not_found', `no route for ${request.method} ${path}`));
  });

  const ctx: HttpContext = { hub, http: config.http, log, metrics, ...(options.webhooks !== undefined ? { webhooks: options.webhooks } : {}) };
  // Before any route: the OpenAPI generator collects routes as they are added.
  installOpenApi(app);
  healthRoutes(app, ctx);
  streamRoutes(app, ctx);
  eventRoutes(app, ctx);
  subscriptionRoutes(app, ctx);
  gosepRoutes(app, ctx, config.gosep);
  liveRoutes(app, ctx, { live: config.live, acl });
  operatorRoutes(app, ctx, { config, listeners: options.listeners ?? [] });
  return app;
}

function passBody(_request: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void): void {
  done(null, body);
}

/** Authenticates (401) and authorizes (403) a request by its route's `access` config. */
function checkAccess(acl: AccessControl, request: FastifyRequest): void {
  const access = request.routeOptions.config.access;
  if (access === undefined || access === 'none' || request.is404) return;
  const principal = acl.authenticate(request.headers.authorization ?? queryBearer(request));
  request.principal = principal;
  switch (access) {
    case 'publish':
    case 'read':
    case 'admin':
      authorize(principal, access, (request.params as { stream: string }).stream);
      return;
    case 'list':
      if (!principal.canAny('read')) throw new HeraldError('forbidden', `token ${JSON.stringify(principal.name)} has no read scope`);
      return;
    case 'token':
      return;
    case 'server':
      if (!principal.canAll('read')) throw new HeraldError('forbidden', `token ${JSON.stringify(principal.name)} needs read on every stream (read, read:* or admin) for ${request.routeOptions.url}`);
      return;
  }
}

function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply, bodyLimit: number, log: Logger): void {
  const e = toHttpError(err, bodyLimit);
  if (e.status >= 500) {
    const fields = { err, method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE };
    if (e.status === 500) log.error(fields, 'request failed');
    else log.warn(fields, `request answered ${e.status}: ${e.message}`);
  }
  if (e.headers !== undefined) reply.headers(e.headers);
  reply.code(e.status).header('content-type', JSON_CONTENT_TYPE).send(errorBody(e.code, e.message));
}
