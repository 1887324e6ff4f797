import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs the CLI from source the way a user would run the bin: a real process, real sockets. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = 'src/cli/main.ts';

/**
 * Listeners on by default with fixed ports get port 0 in tests, so test files running in
 * parallel never collide (a test that needs a port sets it).
 */
const FREE_PORTS = {
  HERALD_EVENTBUS_PORT: '0',
  HERALD_FOLLOWERMAZE_EVENT_PORT: '0',
  HERALD_FOLLOWERMAZE_CLIENT_PORT: '0',
  HERALD_EVENTPIPER_PORT: '0',
};

/** The environment without HERALD_* variables of the caller (a test sets what it needs). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERALD_')) env[k] = v;
  return { ...env, ...FREE_PORTS, ...extra };
}

export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion, feeding `input` on stdin. */
export function runCli(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => {}); // a command that does not read stdin may exit first
  child.stdin!.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herald ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' may precede the last 'data' events; 'close' follows them.
      child.on('close', () => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/** A running `herald serve`: its URL, its log lines so far (parsed JSON), and its exit. */
export interface Served {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching `predicate` (seen already or to come). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts `herald serve …` and resolves once its HTTP listener logs its URL. */
export function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawnCli(['serve', ...args], env);
  const logs: Record<string, unknown>[] = [];
  const waiters: { predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text, unparsed: true };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.predicate(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  // 'close' (not 'exit'): by then every line the process wrote to stdout has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const waitForLog = (predicate: (l: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`)), timeoutMs);
      waiters.push({ predicate, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`herald serve exited (${code ?? signal}) before the expected log line; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`));
      });
    });
  };
  return waitForLog((l) => l.listener === 'http' && typeof l.url === 'string').then((line) => ({
    child,
    url: line.url as string,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
  }));
}

/** Stops a served process (SIGTERM) and waits for its exit. */
export async function stopServe(served: Served | undefined): Promise<void> {
  if (!served || served.child.exitCode !== null || served.child.signalCode !== null) return;
  served.child.kill('SIGTERM');
  const timer = setTimeout(() => served.child.kill('SIGKILL'), 10_000);
  await served.exited;
  clearTimeout(timer);
}

/** JSON lines of a command's stdout. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
