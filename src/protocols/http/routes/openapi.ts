import type { FastifyInstance, FastifySchema } from 'fastify';
import swagger from '@fastify/swagger';
import { JSON_CONTENT_TYPE } from '../context.js';
import { renderDocsPage, type OpenApiDocument } from './docsPage.js';

/** Routes of the document itself, and the reference page rendered from it. */
export const OPENAPI_ROUTE = '/openapi.json';
export const DOCS_ROUTE = '/docs';

type PluginCallback = (err?: Error) => void;
type SwaggerPlugin = (app: FastifyInstance, options: Record<string, unknown>, done: PluginCallback) => void;

/**
 * Installs the OpenAPI generator (@fastify/swagger) on `app`, synchronously.
 *
 * The generator learns routes from fastify's onRoute hook, so it must be in place before the
 * first route is added. `app.register()` would only load it at `ready()`, after buildApp has
 * added every route, and the document would be empty; calling the plugin function directly
 * installs the hook now. (It is a fastify-plugin, so it is meant to run on this very instance.)
 * Routes with `access` other than `none` are marked as needing the bearer token.
 */
export function installOpenApi(app: FastifyInstance): void {
  const options = {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Herald HTTP API',
        version: '0.1.0',
        description: 'The native HTTP API of Herald, generated from the route schemas. Every error answers {"error":{"code","message"}}.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An access token from auth.tokens (only when tokens are configured).' } } },
    },
    transform: ({ schema, url, route }: { schema: FastifySchema | undefined; url: string; route: { config?: { access?: string } } }) => {
      const access = route.config?.access;
      if (schema === undefined || access === undefined || access === 'none') return { schema, url };
      return { schema: { ...schema, security: [{ bearer: [] }] }, url };
    },
  };
  let failure: Error | undefined;
  (swagger as unknown as SwaggerPlugin)(app, options, (err) => {
    failure = err;
  });
  if (failure !== undefined) throw failure;
}

/** `GET /openapi.json` and `GET /docs`. Both are public: they describe the API, not its data. */
export function openApiRoutes(app: FastifyInstance): void {
  let page: string | undefined;
  const documentOf = (): OpenApiDocument => (app as unknown as { swagger(): OpenApiDocument }).swagger();

  app.get(OPENAPI_ROUTE, {
    config: { access: 'none' },
    schema: { summary: 'This OpenAPI 3.1 document, generated from the route schemas', response: { 200: { type: 'object', required: ['openapi', 'paths'], additionalProperties: true, properties: { openapi: { type: 'string' }, paths: { type: 'object' } } } } },
  }, async (_request, reply) => {
    reply.header('content-type', JSON_CONTENT_TYPE).header('cache-control', 'no-cache');
    return JSON.stringify(documentOf());
  });

  app.get(DOCS_ROUTE, {
    config: { access: 'none' },
    schema: { summary: 'A readable reference page of the OpenAPI document (HTML)', response: { 200: { type: 'string' } } },
  }, async (_request, reply) => {
    // The routes cannot change after start-up, so the page is rendered once.
    page ??= renderDocsPage(documentOf());
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache');
    return page;
  });
}
