import { z } from 'zod';
import { port } from './common.js';

/** The follower-maze listener pair (issue 6, compat.md §2). */
export const followermazeSection = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the follower-maze event source and client listeners.'),
    host: z.string().min(1).default('127.0.0.1').describe('Address to bind both listeners.'),
    eventPort: port.default(9090).describe('TCP port of the event source (0 picks a free one).'),
    clientPort: port.default(9099).describe('TCP port of the user clients (0 picks a free one).'),
  })
  .strict()
  .prefault({})
  .describe('The follower-maze TCP server.');
