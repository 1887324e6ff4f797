import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { HeraldConfig } from '../../../config/schema.js';
import type { Listener } from '../../../core/listener.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { errorResponses } from '../schemas.js';

const STARTED = new Date();

const systemSchema = {
  type: 'object',
  required: ['startedAt', 'uptimeSeconds', 'store', 'listeners'],
  properties: {
    startedAt: { type: 'string', format: 'date-time' },
    uptimeSeconds: { type: 'number' },
    store: {
      type: 'object',
      required: ['kind', 'open', 'streams', 'events', 'bytes'],
      properties: {
        kind: { type: 'string', description: 'memory, lmdb or postgres.' },
        open: { type: 'boolean' },
        streams: { type: 'integer' },
        events: { type: 'integer', description: 'Events currently stored, over every stream.' },
        bytes: { type: 'integer', description: 'Payload bytes currently stored, over every stream.' },
        diskBytes: { type: 'integer', description: 'Size of the LMDB files on disk (lmdb only).' },
      },
    },
    listeners: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'url'],
        properties: {
          name: { type: 'string' },
          url: { type: ['string', 'null'], description: 'The bound address; null while not listening.' },
          connections: { type: ['integer', 'null'], description: 'Open connections; null when the listener does not count them.' },
        },
      },
    },
  },
} as const;

export interface SystemRouteOptions {
  config: HeraldConfig;
  listeners: readonly Listener[];
}

/** `GET /system`: the store's kind and size and every listener's address and connections (the dashboard's overview). */
export function systemRoutes(app: FastifyInstance, ctx: HttpContext, options: SystemRouteOptions): void {
  const { hub } = ctx;
  app.get('/system', {
    // Totals over every stream: needs read on every stream, like /metrics.
    config: { access: 'server' },
    schema: { summary: 'The store (kind, size) and the listeners (address, connections)', response: { 200: systemSchema, ...errorResponses(401, 403, 503) } },
  }, async (_request, reply) => {
    const streams = hub.store.isOpen ? await hub.listStreams() : [];
    const store: Record<string, unknown> = {
      kind: hub.store.kind,
      open: hub.store.isOpen,
      streams: streams.length,
      events: streams.reduce((n, s) => n + s.count, 0),
      bytes: streams.reduce((n, s) => n + s.bytes, 0),
    };
    if (options.config.store.type === 'lmdb') store.diskBytes = await directorySize(resolve(options.config.store.path));
    const listeners = options.listeners.map((l) => ({ name: l.name, url: l.url ?? null, connections: l.connections ?? null }));
    reply.header('content-type', JSON_CONTENT_TYPE);
    return JSON.stringify({ startedAt: STARTED.toISOString(), uptimeSeconds: Math.round(process.uptime()), store, listeners });
  });
}

/** Bytes of the regular files directly in `dir` (LMDB keeps a data and a lock file there). */
async function directorySize(dir: string): Promise<number> {
  try {
    let total = 0;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isFile()) total += (await stat(join(dir, entry.name))).size;
    }
    return total;
  } catch {
    return 0;
  }
}
