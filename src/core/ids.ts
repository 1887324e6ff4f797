import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * UUIDv7 event ids. The uuid package draws 16 fresh random bytes from the OS per id; at hundreds
 * of thousands of ids a second that syscall shows in profiles, so random bytes are drawn in
 * blocks and handed to it 16 at a time.
 */
const POOL_SIZE = 16 * 1024;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

export function newEventId(): string {
  if (offset === POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + 16);
  offset += 16;
  return v7({ random });
}
