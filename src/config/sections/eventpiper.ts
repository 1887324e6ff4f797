import { z } from 'zod';
import { port } from './common.js';

/** The EventPiper listener and its PostgreSQL LISTEN source (issue 4, compat.md §4, docs/live.md). */
export const eventpiperSection = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind.'),
    port: port.default(4000).describe('TCP port (0 picks a free one).'),
    database: z.string().min(1).optional().describe('PostgreSQL URL of the EventPiper source; the listener runs whenever this is set.'),
    maxConnections: z.number().int().positive().default(10_000).describe('Most open connections; further ones are closed at once.'),
    heartbeatMs: z.number().int().positive().default(10_000).describe('A session with no event for this long gets `event: heartbeat` / `data: thump` (ms).'),
    replayPageSize: z.number().int().positive().max(10_000).default(500).describe('Rows read per query while replaying after a Last-Event-ID or catching up after a reconnect.'),
    maxBufferedBytes: z.number().int().positive().default(256 * 1024).describe('Bytes a session may have queued but not yet sent; a client further behind is disconnected (it resumes with Last-Event-ID).'),
    reconnectMaxMs: z.number().int().positive().default(10_000).describe('Longest wait between attempts to reconnect the LISTEN connection (backoff from 100 ms).'),
    mirror: z.boolean().default(true).describe('Also append every row to a Herald stream, so every other protocol can read it (one node at a time, under a store lease).'),
    stream: z.string().min(1).default('eventpiper').describe('The Herald stream rows are appended to when mirror is on.'),
    mirrorLeaseMs: z.number().int().min(300).default(30_000).describe('With several nodes on one store: the mirror\'s lease lasts this long (ms, renewed every third of it), so another node takes the mirror over within it when the node holding it dies.'),
  })
  .strict()
  .prefault({})
  .describe('The EventPiper SSE listener, fed by PostgreSQL LISTEN/NOTIFY.');
