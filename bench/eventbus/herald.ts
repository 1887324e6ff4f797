import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVE_ENV, repoDir, startProcess, stopProcess } from '../lib.js';

/** The credentials every event-bus benchmark uses. */
export const CLIENT = { client_id: 'bench', client_secret: 'bench-secret' };
export const AUTH = `"auth":{"client_id":"${CLIENT.client_id}","client_secret":"${CLIENT.client_secret}"}`;

export interface HeraldTarget {
  port: number;
  httpUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `herald serve` from the build on a fresh LMDB directory (or in memory), with the event-bus listener on a free port. */
export async function startHeraldEventBus(store: 'lmdb' | 'memory' = 'lmdb'): Promise<HeraldTarget> {
  const data = mkdtempSync(join(tmpdir(), 'herald-bench-eb-'));
  const { child, match } = await startProcess(
    process.execPath,
    [join(repoDir, 'dist', 'cli', 'main.js'), 'serve', '--port', '0', ...(store === 'memory' ? ['--memory', '--set', 'store.maxEventsPerStream=2000000'] : ['--data', data])],
    /"url":"(http:\/\/[\d.:]+)"[\s\S]*"listener":"eventbus","url":"tcp:\/\/[\d.]+:(\d+)"/,
    {
      ...SERVE_ENV,
      HERALD_EVENTBUS_PORT: '0',
      HERALD_EVENTBUS_CLIENTS: JSON.stringify([CLIENT]),
      HERALD_FOLLOWERMAZE_ENABLED: 'false',
      HERALD_LOG_LEVEL: 'info',
    },
  );
  // The HTTP listener starts (and logs its URL) before the event-bus one.
  return {
    port: Number(match[2]),
    httpUrl: match[1]!,
    child,
    stop: async () => {
      await stopProcess(child);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on 127.0.0.1 (for redis-server, which cannot pick one itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
