import { z } from 'zod';

/** Server-Sent Events and WebSocket on the HTTP listener (issue 4, docs/live.md). */
export const liveSection = z
  .object({
    heartbeatMs: z.number().int().positive().default(15_000).describe('An idle SSE connection gets a comment line, and a WebSocket a ping, this often (ms); a WebSocket that did not answer the previous ping is closed.'),
    retryMs: z.number().int().nonnegative().default(3_000).describe('The reconnection delay suggested to SSE clients (the retry: field), in ms.'),
    maxBufferedBytes: z.number().int().positive().default(256 * 1024).describe('Bytes a live connection may have queued but not yet sent; a client further behind is disconnected and resumes from its last event.'),
    replayBatchEvents: z.number().int().positive().max(10_000).default(100).describe('Events read from the store at a time while a connection replays (bounds its memory).'),
    wsMaxMessageBytes: z.number().int().positive().default(4096).describe('Largest message a WebSocket client may send; larger ones close the connection (1009).'),
  })
  .strict()
  .prefault({})
  .describe('Live push over the HTTP listener: Server-Sent Events and WebSocket.');
