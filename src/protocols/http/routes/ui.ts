import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../../../core/errors.js';
import { errorResponses } from '../schemas.js';

/**
 * The dashboard (web/, DESIGN.md §5) served at /ui/ from `web/dist`, which `npm run build:web`
 * writes: `index.html` plus content-hashed assets, each with `.br` and `.gz` siblings compressed
 * at build time. An asset is sent in the best encoding the client accepts; hashed names are
 * cached for a year (`immutable`), index.html is revalidated by ETag on every load so a new
 * build shows at once. The files carry no data, so they need no token: the page itself asks for
 * one and sends it with every API call.
 */

/** `web/dist` beside `src/` or `dist/`: both are four levels above this file. */
export const WEB_DIST = fileURLToPath(new URL('../../../../web/dist/', import.meta.url));

interface Asset {
  type: string;
  etag: string;
  immutable: boolean;
  identity: Buffer;
  br?: Buffer;
  gzip?: Buffer;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/** Reads every built file once; undefined when the dashboard was not built. */
export function loadAssets(dir: string = WEB_DIST): Map<string, Asset> | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  if (!names.includes('index.html')) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of names) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue;
    const identity = readFileSync(dir + name);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const asset: Asset = {
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha1').update(identity).digest('base64url').slice(0, 20)}"`,
      // build.mjs names every asset but index.html `<name>-<hash>.<ext>`.
      immutable: /-[A-Z0-9]{8,}\.[a-z]+$/i.test(name),
      identity,
    };
    if (names.includes(`${name}.br`)) asset.br = readFileSync(`${dir}${name}.br`);
    if (names.includes(`${name}.gz`)) asset.gzip = readFileSync(`${dir}${name}.gz`);
    assets.set(name, asset);
  }
  return assets;
}

export function uiRoutes(app: FastifyInstance, dir: string = WEB_DIST): void {
  let assets: Map<string, Asset> | undefined;
  const serve = (name: string, request: FastifyRequest, reply: FastifyReply): Buffer | string => {
    assets ??= loadAssets(dir);
    if (assets === undefined) throw new HeraldError('unavailable', 'the dashboard is not built: run `npm run build:web` (or `npm run build`)');
    const asset = assets.get(name);
    if (asset === undefined) throw new HeraldError('not_found', `no dashboard file ${JSON.stringify(name.slice(0, 100))}`);
    reply
      .header('content-type', asset.type)
      .header('etag', asset.etag)
      .header('vary', 'accept-encoding')
      .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff');
    if (asset.type.startsWith('text/html')) {
      // Only the page's own files: no inline script, no other origin.
      reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    }
    if (request.headers['if-none-match'] === asset.etag) {
      reply.code(304);
      return '';
    }
    const accepted = String(request.headers['accept-encoding'] ?? '');
    if (asset.br !== undefined && /\bbr\b/.test(accepted)) {
      reply.header('content-encoding', 'br');
      return asset.br;
    }
    if (asset.gzip !== undefined && /\bgzip\b/.test(accepted)) {
      reply.header('content-encoding', 'gzip');
      return asset.gzip;
    }
    return asset.identity;
  };
  const html = { 200: { type: 'string', description: 'The dashboard page (HTML).' }, 304: { type: 'null', description: 'Not modified (ETag).' }, ...errorResponses(503) };

  app.get('/ui', {
    config: { access: 'none' },
    schema: { summary: 'Redirects to the dashboard at /ui/', response: { 302: { type: 'null' } } },
  }, async (_request, reply) => {
    reply.code(302).header('location', '/ui/');
    return '';
  });

  app.get('/ui/', { config: { access: 'none' }, schema: { summary: 'The operator dashboard', response: html } }, async (request, reply) => serve('index.html', request, reply));

  app.get<{ Params: { file: string } }>('/ui/:file', {
    config: { access: 'none' },
    schema: {
      summary: 'A dashboard asset (script, style), compressed (br, gzip) when the client accepts it',
      params: { type: 'object', required: ['file'], properties: { file: { type: 'string', maxLength: 200 } } },
      response: { 200: { type: 'string' }, 304: { type: 'null' }, ...errorResponses(404, 503) },
    },
  }, async (request, reply) => serve(request.params.file, request, reply));
}
