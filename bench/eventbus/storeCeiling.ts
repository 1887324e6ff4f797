import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hub } from '../../src/core/hub.js';
import { LmdbStore } from '../../src/store/lmdb.js';

/**
 * The ceiling under the event-bus write path: the same events appended straight to an in-process
 * hub on LMDB, in the same shape of load (`connections` writers, each appending `depth` events
 * per call and waiting for the commit before the next), with no protocol in between.
 */
export async function storeCeiling(event: string, total: number, connections: number, depth: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-ceiling-'));
  const hub = new Hub({ store: new LmdbStore({ path: dir }), retentionIntervalMs: 0 });
  await hub.start();
  try {
    await hub.createStream('bench');
    const data = Buffer.from(event);
    const window = Array.from({ length: depth }, () => ({ stream: 'bench', contentType: 'application/json', data }));
    let issued = 0;
    const writer = async (): Promise<void> => {
      while (issued < total) {
        issued += depth;
        await hub.publishBatch(window, { createStreams: false });
      }
    };
    await Promise.all(Array.from({ length: connections }, writer)); // warm-up round
    issued = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: connections }, writer));
    return issued / ((performance.now() - started) / 1000);
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
