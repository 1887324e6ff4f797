import { z } from 'zod';
import { STREAM_NAME_PATTERN, STREAM_NAME_RULE } from '../../core/names.js';
import { port } from './common.js';

/** The follower-maze listener pair (issue 6, compat.md §2; docs/followermaze.md). */
export const followermazeSection = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the follower-maze event source and client listeners.'),
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind both listeners.'),
    eventPort: port.default(9090).describe('TCP port of the event source (0 picks a free one).'),
    clientPort: port.default(9099).describe('TCP port of the user clients (0 picks a free one).'),
    maxLineBytes: z
      .number()
      .int()
      .min(16)
      .default(1024)
      .describe('Longest event or registration line in bytes (line ending excluded); a longer event line is dropped as malformed, a longer registration closes the connection.'),
    reorderWindow: z
      .number()
      .int()
      .positive()
      .default(1_048_576)
      .describe('How far ahead of the next expected sequence number an event may arrive and still wait; events further ahead are dropped. Memory follows the distance actually seen (about 60 bytes per seq of it), not this limit.'),
    maxSources: z.number().int().positive().default(16).describe('Most event source connections at once; further ones are closed at once.'),
    maxClients: z.number().int().positive().default(10_000).describe('Most user client connections at once (registered or not); further ones are closed at once.'),
    registrationTimeoutMs: z
      .number()
      .int()
      .nonnegative()
      .default(10_000)
      .describe('A client connection that has not sent its user id line within this many ms is closed (0: wait forever).'),
    clientBufferBytes: z
      .number()
      .int()
      .min(65_536)
      .default(1024 * 1024)
      .describe('Unsent notification bytes one client may have queued; above it every event source is paused until that client catches up.'),
    clientStallTimeoutMs: z
      .number()
      .int()
      .nonnegative()
      .default(30_000)
      .describe('A client over clientBufferBytes for this many ms is disconnected, so one dead reader cannot stall the maze (0: never).'),
    persist: z.boolean().default(false).describe('Keep the next expected sequence number and the follower graph in the store, so a restarted server carries on where it stopped.'),
    persistIntervalMs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('How often the state is saved with persist (and at a clean stop); a crash loses at most this much progress.'),
    stream: z
      .string()
      .regex(STREAM_NAME_PATTERN, `a stream name: ${STREAM_NAME_RULE}`)
      .optional()
      .describe('Also append every dispatched event, in sequence order, to this Herald stream (unset: no mirror).'),
    streamBatchSize: z.number().int().positive().max(10_000).default(1000).describe('Events per append when mirroring into followermaze.stream.'),
    logIntervalMs: z.number().int().nonnegative().default(1000).describe('Least time between two log lines about malformed or dropped events (the rest are counted in metrics).'),
  })
  .strict()
  .prefault({})
  .describe('The follower-maze TCP server.');
