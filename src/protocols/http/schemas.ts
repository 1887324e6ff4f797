import { STREAM_NAME_RULE } from '../../core/names.js';

/**
 * JSON schemas shared by the routes. They validate params and query strings and document the
 * responses for the OpenAPI document; handlers send pre-serialized JSON strings, so response
 * schemas cost nothing per request.
 */

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** Every listed status answers with the error shape. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}

export const streamParams = {
  type: 'object',
  required: ['stream'],
  properties: { stream: { type: 'string', description: `The stream name: ${STREAM_NAME_RULE}.` } },
} as const;

export const retentionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxCount: { type: 'integer', minimum: 1, description: 'Keep at most this many of the newest events.' },
    maxAgeMs: { type: 'integer', minimum: 1, description: 'Remove events older than this many milliseconds.' },
  },
} as const;

export const streamInfoSchema = {
  type: 'object',
  required: ['name', 'created', 'count', 'firstSeq', 'lastSeq', 'bytes', 'retention'],
  properties: {
    name: { type: 'string' },
    created: { type: 'string', format: 'date-time' },
    count: { type: 'integer', description: 'Events currently stored.' },
    firstSeq: { type: 'integer', description: 'Seq of the oldest stored event (lastSeq + 1 when empty).' },
    lastSeq: { type: 'integer', description: 'Seq of the newest event ever appended (0 when none).' },
    bytes: { type: 'integer', description: 'Payload bytes currently stored.' },
    retention: retentionSchema,
  },
} as const;

export const publishedSchema = {
  type: 'object',
  required: ['id', 'stream', 'seq'],
  properties: { id: { type: 'string' }, stream: { type: 'string' }, seq: { type: 'integer' } },
} as const;

export const batchPublishedSchema = {
  type: 'object',
  required: ['stream', 'count', 'stored', 'firstSeq', 'lastSeq', 'ids'],
  description: 'The i-th event not listed in duplicates has seq firstSeq + i (one commit, consecutive seqs).',
  properties: {
    stream: { type: 'string' },
    count: { type: 'integer', description: 'Events in the request.' },
    stored: { type: 'integer', description: 'Events stored (count minus duplicates).' },
    firstSeq: { type: ['integer', 'null'] },
    lastSeq: { type: ['integer', 'null'] },
    ids: { type: 'array', items: { type: 'string' }, description: 'Every event id, in request order.' },
    duplicates: {
      type: 'array',
      description: 'Events whose id was already stored, with the original position.',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, stream: { type: 'string' }, seq: { type: 'integer' } },
      },
    },
  },
} as const;

/** Either shape a publish can answer with. */
export const publishResponseSchema = { anyOf: [publishedSchema, batchPublishedSchema] } as const;

export const storedEventSchema = {
  type: 'object',
  required: ['stream', 'seq', 'id', 'type', 'time', 'contentType'],
  properties: {
    stream: { type: 'string' },
    seq: { type: 'integer' },
    id: { type: 'string' },
    type: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    subject: { type: 'string' },
    contentType: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    data: { description: 'The payload: a JSON value for JSON types, a string for text/*.' },
    data_base64: { type: 'string', description: 'The payload bytes, for every other type.' },
  },
} as const;

export const eventsPageSchema = {
  type: 'object',
  required: ['events', 'next'],
  properties: {
    events: { type: 'array', items: storedEventSchema },
    next: { type: 'integer', description: 'Pass as `after` to read the following page.' },
  },
} as const;
