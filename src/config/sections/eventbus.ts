import { z } from 'zod';
import { port } from './common.js';

/** The event-bus TCP JSON-lines listener (issue 5, compat.md §3). */
export const eventbusSection = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the event-bus TCP protocol.'),
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind.'),
    port: port.default(8080).describe('TCP port (0 picks a free one).'),
  })
  .strict()
  .prefault({})
  .describe('The event-bus TCP listener (JSON lines).');
