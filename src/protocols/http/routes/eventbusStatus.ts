import type { FastifyInstance } from 'fastify';
import { eventbusStreamName, streamUuid } from '../../eventbus/names.js';
import { StatusBook, type StreamStatuses } from '../../eventbus/statuses.js';
import type { StreamInfo } from '../../../store/types.js';
import { JSON_CONTENT_TYPE, type HttpContext } from '../context.js';
import { errorResponses } from '../schemas.js';

const countsSchema = {
  type: 'object',
  required: ['name', 'eventbusName', 'id', 'events', 'unprocessed', 'processed', 'retry'],
  properties: {
    name: { type: 'string', description: 'The Herald stream name.' },
    eventbusName: { type: 'string', description: 'The name event-bus clients use.' },
    id: { type: 'string', description: 'The event-bus stream id (UUID).' },
    events: { type: 'integer' },
    unprocessed: { type: 'integer', description: 'Status 0.' },
    processed: { type: 'integer', description: 'Status 1.' },
    retry: { type: 'integer', description: 'Status 2.' },
  },
} as const;

/**
 * `GET /eventbus/streams`: each stream's events counted by event-bus status (docs/eventbus.md
 * "Statuses"). Read-only: the statuses are loaded from the store with the event-bus module's
 * own StatusBook (a fresh one per request, never flushed), so the answer is what is durable,
 * at most one event-loop turn behind the listener's in-memory view. Works without an event-bus
 * listener running (then every event is unprocessed unless statuses were stored before).
 */
export function eventbusStatusRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const { hub } = ctx;
  app.get('/eventbus/streams', {
    config: { access: 'list' },
    schema: {
      summary: 'Event-bus streams: events counted by status (unprocessed, processed, retry)',
      response: { 200: { type: 'object', required: ['streams'], properties: { streams: { type: 'array', items: countsSchema } } }, ...errorResponses(401, 403, 503) },
    },
  }, async (request, reply) => {
    const { principal } = request;
    const book = new StatusBook(hub.store);
    const streams = (await hub.listStreams()).filter((s) => principal === undefined || principal.can('read', s.name));
    const out = [];
    for (const info of streams) {
      const id = streamUuid(info.name, info.created);
      out.push({ name: info.name, eventbusName: eventbusStreamName(info.name), id, ...countStatuses(info, await book.load(id, info.firstSeq)) });
    }
    reply.header('content-type', JSON_CONTENT_TYPE);
    return JSON.stringify({ streams: out });
  });
}

/** Counts over the stored seqs firstSeq..lastSeq: the watermark's run, corrected by the explicit marks. */
export function countStatuses(info: Pick<StreamInfo, 'firstSeq' | 'lastSeq'>, state: Pick<StreamStatuses, 'watermark' | 'marks'>): { events: number; unprocessed: number; processed: number; retry: number } {
  const lo = info.firstSeq;
  const hi = info.lastSeq;
  const events = Math.max(0, hi - lo + 1);
  const counts = [0, Math.max(0, Math.min(state.watermark, hi) - lo + 1), 0];
  for (const [seq, status] of state.marks) {
    if (seq < lo || seq > hi) continue;
    const implied = seq <= state.watermark ? 1 : 0;
    if (status === implied) continue;
    if (implied === 1) counts[1]!--;
    counts[status]!++;
  }
  counts[0] = events - counts[1]! - counts[2]!;
  return { events, unprocessed: counts[0], processed: counts[1]!, retry: counts[2]! };
}
