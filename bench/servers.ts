import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVE_ENV, benchDir, repoDir, startProcess, stopProcess } from './lib.js';
import type { MemoryCgroup } from './memoryCgroup.js';

export interface RunningTarget {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The bare node:http ceiling (bench/peers/bare-http.mjs) in its own process. */
export async function startBareHttp(): Promise<RunningTarget> {
  const { child, match } = await startProcess(process.execPath, [join(benchDir, 'peers', 'bare-http.mjs')], /listening (http:\/\/[\d.:]+)/);
  return { url: match[1]!, child, stop: () => stopProcess(child) };
}

/** Listeners that default to fixed ports get free ones, so benchmarks never collide with anything. */
const FREE_PORTS = { HERALD_EVENTBUS_PORT: '0', HERALD_FOLLOWERMAZE_EVENT_PORT: '0', HERALD_FOLLOWERMAZE_CLIENT_PORT: '0', HERALD_EVENTPIPER_PORT: '0' };

/**
 * `herald serve` from the build (npm run bench builds first), on a fresh LMDB data dir or in
 * memory; `env` adds HERALD_* settings (e.g. go-sep queues as JSON); `cgroup` holds it to a memory limit.
 */
export async function startHerald(store: 'lmdb' | 'memory' = 'lmdb', env: Record<string, string> = {}, cgroup?: MemoryCgroup): Promise<RunningTarget> {
  const data = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const args = [join(repoDir, 'dist', 'cli', 'main.js'), 'serve', '--port', '0', ...(store === 'memory' ? ['--memory'] : ['--data', data])];
  const [command, argv] = cgroup ? cgroup.wrap(process.execPath, args) : [process.execPath, args];
  const { child, match } = await startProcess(command, argv, /"url":"(http:\/\/[\d.:]+)"/, { ...SERVE_ENV, ...FREE_PORTS, ...env });
  return {
    url: match[1]!,
    child,
    stop: async () => {
      await stopProcess(child);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Reads one gauge or counter from a Herald's /metrics. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}
