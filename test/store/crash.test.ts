import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LmdbStore, type LmdbStoreOptions } from '../../src/store/lmdb.js';
import { tempDir } from '../helpers/tmp.js';

const fixture = new URL('./fixtures/appender.ts', import.meta.url).pathname;

/** Runs the appender child until it has acknowledged `acks` events, then SIGKILLs it. */
function runAndKill(path: string, acks: number, options: Omit<LmdbStoreOptions, 'path'>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, path, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) if (line !== 'ready') lines.push(line);
      if (lines.length >= acks && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`appender exited on its own (${_code})`));
      else resolve(lines);
    });
  });
}

describe('lmdb durability under SIGKILL', () => {
  it.each([
    ['by default (small commits logged, LMDB taking them every 100 ms)', {}],
    ['when only the write-ahead log holds the small commits', { walApplyMs: 3_600_000 }],
    ['without the write-ahead log', { wal: false }],
  ] as Array<[string, Omit<LmdbStoreOptions, 'path'>]>)('loses no acknowledged append when the process is killed mid-burst, %s', async (_name, options) => {
    const dir = tempDir();
    try {
      for (let round = 0; round < 2; round++) {
        const acked = await runAndKill(dir.path, 5000 * (round + 1), options);
        expect(acked.length).toBeGreaterThanOrEqual(5000);
        const store = new LmdbStore({ path: dir.path });
        await store.open();
        try {
          for (const line of acked) {
            const [stream, seq, id] = line.split(' ');
            expect(await store.lookupId(id!)).toEqual({ stream, seq: Number(seq) });
          }
          // Every stream is gap-free from 1 to its head, whatever was in flight at the kill.
          for (const info of await store.listStreams()) {
            let expected = 1;
            for (;;) {
              const events = await store.read(info.name, { after: expected - 1, limit: 5000 });
              if (events.length === 0) break;
              for (const e of events) expect(e.seq).toBe(expected++);
            }
            expect(expected - 1).toBe(info.lastSeq);
            expect(info.count).toBe(info.lastSeq);
          }
        } finally {
          await store.close();
        }
      }
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});
