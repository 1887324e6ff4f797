import type { Hub } from '../../core/hub.js';
import type { HeraldConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { Principal } from './auth.js';
import type { HttpMetrics } from './metrics.js';
import type { WebhookService } from '../../delivery/webhooks/service.js';

/**
 * What a route needs to be allowed: `none` (health checks), an action on the route's
 * `:stream` (`publish`, `read`, `admin`), `list` (a read scope on any stream; the answer is
 * filtered to the readable streams), `server` (read on every stream: /metrics) or `token` (any
 * valid token; the handler checks what the token may do with the resource, e.g. a subscription's stream).
 */
export type Access = 'none' | 'publish' | 'read' | 'admin' | 'list' | 'server' | 'token';

declare module 'fastify' {
  /** Route documentation for the OpenAPI document (the same fields @fastify/swagger declares). */
  interface FastifySchema {
    summary?: string;
    description?: string;
  }
  interface FastifyContextConfig {
    /** Required on every Herald route (the auth hook reads it). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The authenticated token; undefined when no tokens are configured. */
    principal: Principal | undefined;
  }
}

/** What the routes share. */
export interface HttpContext {
  hub: Hub;
  http: HeraldConfig['http'];
  log: Logger;
  metrics: HttpMetrics;
  /** Webhook subscriptions, when webhook delivery is enabled. */
  webhooks?: WebhookService;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
