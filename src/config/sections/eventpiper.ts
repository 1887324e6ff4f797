import { z } from 'zod';
import { port } from './common.js';

/** The EventPiper listener and its PostgreSQL LISTEN source (issue 4, compat.md §4). */
export const eventpiperSection = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind.'),
    port: port.default(4000).describe('TCP port (0 picks a free one).'),
    database: z.string().min(1).optional().describe('PostgreSQL URL of the EventPiper source; the listener runs whenever this is set.'),
  })
  .strict()
  .prefault({})
  .describe('The EventPiper SSE listener, fed by PostgreSQL LISTEN/NOTIFY.');
