import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, stopProcess } from '../lib.js';
import { freePort } from './herald.js';

/** How to get the peer when it is missing (the benchmarks then skip only the comparison). */
export const REDIS_HINT = 'install Debian\'s redis-server (apt-get install redis-server: it brings redis-server and redis-benchmark) to compare with Redis';

export function which(command: string): string | undefined {
  try {
    return execFileSync('which', [command], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface RedisPeer {
  port: number;
  child: ChildProcess;
  version: string;
  stop(): Promise<void>;
}

/**
 * A redis-server on loopback, persisting like a durable log would: the append-only file with
 * `appendfsync everysec` (fsync once a second; an acknowledged write may be lost in a crash, which
 * Herald's commits never allow), no RDB snapshots. Undefined when Redis is not installed.
 */
export async function startRedis(): Promise<RedisPeer | undefined> {
  if (!which('redis-server') || !which('redis-benchmark')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-redis-'));
  const port = await freePort();
  const { child } = await startProcess(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'no'],
    /Ready to accept connections/,
  );
  const version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=([\d.]+)/)?.[1] ?? 'unknown';
  return {
    port,
    child,
    version,
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs redis-benchmark with a command of its own; resolves with requests per second. */
export function redisBenchmark(port: number, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const rps = [...out.matchAll(/([\d.]+) requests per second/g)].pop()?.[1];
      if (code === 0 && rps !== undefined) resolve(Number(rps));
      else reject(new Error(`redis-benchmark failed (${code}): ${out.slice(-500)}`));
    });
  });
}
