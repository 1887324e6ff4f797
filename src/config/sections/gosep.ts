import { z } from 'zod';
import { STREAM_NAME_RULE, isValidStreamName } from '../../core/names.js';

/** First path segments of Herald's own HTTP routes: a queue cannot take them. */
const RESERVED = ['streams', 'subscriptions', 'health', 'ready', 'metrics', 'openapi.json', 'docs', 'ui', 'live', 'ws', 'system', 'eventbus', 'events'];

const queueName = z
  .string()
  .refine(isValidStreamName, `a queue name is a stream name: ${STREAM_NAME_RULE}`)
  .refine((name) => !RESERVED.includes(name), `the name is one of Herald's own routes (${RESERVED.join(', ')})`);

/** One go-sep forwarding target (compat.md §1). */
const target = z
  .object({
    url: z.url({ protocol: /^https?$/ }).describe('Where each event is forwarded.'),
    buffer: z.number().int().positive().describe('Events waiting for this target; past it the oldest is dropped and counted as lost.'),
  })
  .strict();

/** go-sep queues served on the HTTP listener (issue 3, compat.md §1). */
export const gosepSection = z
  .object({
    queues: z.record(queueName, z.array(target).min(1)).default({}).describe('Queue name → its targets. Each queue accepts any method on /<queue> of the HTTP listener.'),
  })
  .strict()
  .prefault({})
  .describe('go-sep compatible push queues.');
