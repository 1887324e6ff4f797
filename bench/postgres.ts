import { join } from 'node:path';
import { SERVE_ENV, repoDir, startProcess, stopProcess } from './lib.js';
import type { RunningTarget } from './servers.js';

/** `herald serve` from the build on the postgres store (one node of a cluster). */
export async function startHeraldOnPostgres(url: string, schema: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<RunningTarget> {
  const { child, match } = await startProcess(
    process.execPath,
    [...nodeArgs, join(repoDir, 'dist', 'cli', 'main.js'), 'serve', '--port', '0'],
    /"url":"(http:\/\/[\d.:]+)"/,
    {
      ...SERVE_ENV,
      HERALD_STORE_TYPE: 'postgres',
      HERALD_STORE_URL: url,
      HERALD_STORE_SCHEMA: schema,
      // Listeners on by default with fixed ports: any free one, so nodes can share the machine.
      HERALD_EVENTBUS_PORT: '0',
      HERALD_FOLLOWERMAZE_EVENT_PORT: '0',
      HERALD_FOLLOWERMAZE_CLIENT_PORT: '0',
      HERALD_EVENTPIPER_PORT: '0',
      ...env,
    },
  );
  return { url: match[1]!, child, stop: () => stopProcess(child) };
}
