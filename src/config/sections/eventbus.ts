import { z } from 'zod';
import { port } from './common.js';

/** One event-bus client: the (client_id, client_secret) pair a request's `auth` must carry. */
const client = z
  .object({
    name: z.string().min(1).optional().describe('A label for logs.'),
    client_id: z.string().min(1).describe('The client id a request\'s auth.client_id must equal.'),
    client_secret: z.string().min(1).optional().describe('The secret a request\'s auth.client_secret must equal.'),
    client_secret_env: z.string().min(1).optional().describe('Name of an environment variable holding the secret (instead of client_secret).'),
  })
  .strict()
  .refine((c) => (c.client_secret === undefined) !== (c.client_secret_env === undefined), { message: 'give exactly one of client_secret and client_secret_env' });

const DAY_MS = 24 * 3600 * 1000;

/** The event-bus TCP JSON-lines listener (issue 5, compat.md §3, docs/eventbus.md). */
export const eventbusSection = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the event-bus TCP protocol.'),
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind.'),
    port: port.default(8080).describe('TCP port (0 picks a free one).'),
    clients: z.array(client).default([]).describe('Credentials accepted in a request\'s auth. None configured: every operation but health and exit is refused.'),
    expiryMs: z.number().int().nonnegative().default(30 * DAY_MS).describe('Events of a stream made by create_stream expire this many ms after they were written (0: never). Sets the stream\'s retention maxAgeMs.'),
    streamExpiryMs: z.record(z.string(), z.number().int().nonnegative()).default({}).describe('Stream name → its own expiry in ms (0: never), used instead of expiryMs when create_stream makes that stream.'),
    maxEventsPerReply: z.number().int().positive().default(10_000).describe('Most events in one get_stream_events, process_events or retry_events reply (the oldest first); mark them and ask again for more.'),
    maxLineBytes: z.number().int().positive().default(1024 * 1024).describe('Longest request line in bytes; a longer one gets an error reply and the connection is closed.'),
    maxConnections: z.number().int().positive().default(10_000).describe('Most open connections; further ones get an error line and are closed.'),
    maxPipelined: z.number().int().positive().default(1024).describe('Requests of one connection read but not yet answered before Herald stops reading from it (backpressure).'),
    lineTimeoutMs: z.number().int().positive().default(30_000).describe('Time allowed to finish a request line once its first byte arrived, in ms; then an error reply and close.'),
    idleTimeoutMs: z.number().int().nonnegative().default(600_000).describe('A connection with no traffic and nothing pending for this many ms is closed (0: never).'),
    keepAliveMs: z.number().int().nonnegative().default(60_000).describe('TCP keep-alive probes start after this many idle ms, so half-open connections of vanished peers are reset (0: off).'),
  })
  .strict()
  .prefault({})
  .describe('The event-bus TCP listener (JSON lines).');

export type EventbusConfig = z.output<typeof eventbusSection>;
export type EventbusClientConfig = EventbusConfig['clients'][number];
