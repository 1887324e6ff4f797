import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';
import { eventbusStatusRoutes } from './eventbusStatus.js';
import { lookupRoutes } from './lookup.js';
import { openApiRoutes } from './openapi.js';
import { systemRoutes, type SystemRouteOptions } from './system.js';
import { uiRoutes } from './ui.js';

/**
 * What the operator dashboard (issue 8) adds to the HTTP API: the OpenAPI document and its
 * reference page, `/system`, `/eventbus/streams`, `/events/:id`, and the dashboard's files
 * under `/ui/`. The dashboard uses only public routes, so a script can do all it does.
 */
export function operatorRoutes(app: FastifyInstance, ctx: HttpContext, options: SystemRouteOptions): void {
  openApiRoutes(app);
  systemRoutes(app, ctx, options);
  eventbusStatusRoutes(app, ctx);
  lookupRoutes(app, ctx);
  uiRoutes(app);
}
