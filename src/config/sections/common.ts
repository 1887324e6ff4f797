import { z } from 'zod';

/** A TCP port; 0 picks a free one (tests). */
export const port = z.number().int().min(0).max(65535);
