import type { Sink } from '../Sink.js';
import { SinkClosedError } from '../SinkClosedError.js';

/** Closes a destination, treating SinkClosedError ("already closed") as success. Internal. */
export async function closeDestination(dst: Sink<never>): Promise<void> {
  try {
    await dst.close();
  } catch (error) {
    if (!(error instanceof SinkClosedError)) throw error;
  }
}
