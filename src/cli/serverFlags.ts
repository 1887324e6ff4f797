import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CliError, EXIT_USAGE } from './errors.js';
import type { ConfigOverrides, LoadConfigOptions } from '../config/load.js';

/**
 * The flags `serve` and `config` share, and their mapping onto config keys (flags are the
 * highest-precedence source: defaults < file < HERALD_* env < flags).
 */
export interface ServerFlags {
  config?: string;
  data?: string;
  port?: string;
  host?: string;
  memory?: boolean;
  insecure?: boolean;
  logLevel?: string;
  set?: string[];
}

export function addServerFlags(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'config file, YAML or JSON').env('HERALD_CONFIG'))
    .addOption(new Option('--data <dir>', 'keep events in an LMDB store in <dir> (store.path)').conflicts('memory'))
    .option('-p, --port <n>', 'HTTP port, 0 for any free one (http.port)')
    .option('--host <host>', 'HTTP address to bind (http.host)')
    .option('--memory', 'keep events in memory only: nothing survives a restart (store.type memory)')
    .option('--insecure', 'allow binding beyond loopback without access tokens (http.insecure)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (log.level)')
    .option('--set <key=value>', 'set any option, e.g. --set http.bodyLimit=2097152 (repeatable)', (value: string, previous: string[] = []) => [...previous, value]);
}

/** The loadConfig options the flags ask for (the environment is added by the caller). */
export function configOptionsFromFlags(flags: ServerFlags): Pick<LoadConfigOptions, 'file' | 'overrides' | 'overrideSources'> {
  const overrides: ConfigOverrides = {};
  const sources: Record<string, string> = {};
  const put = (key: string, value: unknown, flag: string): void => {
    overrides[key] = value;
    sources[key] = flag;
  };
  for (const item of flags.set ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError(`--set takes key=value (like http.port=8080), got ${JSON.stringify(item)}`, EXIT_USAGE);
    const key = item.slice(0, eq).trim();
    put(key, item.slice(eq + 1), `--set ${key}`);
  }
  if (flags.memory) put('store.type', 'memory', '--memory');
  if (flags.data !== undefined) {
    put('store.type', 'lmdb', '--data');
    put('store.path', resolve(flags.data), '--data');
  }
  if (flags.port !== undefined) put('http.port', flags.port, '--port');
  if (flags.host !== undefined) put('http.host', flags.host, '--host');
  if (flags.insecure) put('http.insecure', true, '--insecure');
  if (flags.logLevel !== undefined) put('log.level', flags.logLevel, '--log-level');
  return { ...(flags.config !== undefined ? { file: flags.config } : {}), overrides: nest(overrides), overrideSources: sources };
}

/** `{ 'store.type': 'memory' }` → `{ store: { type: 'memory' } }`, so a store switch is one object. */
function nest(flat: ConfigOverrides): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [key, value] of Object.entries(flat)) {
    const path = key.split('.');
    let node = out;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      node = (node[segment] = next !== null && typeof next === 'object' && !Array.isArray(next) ? next : {}) as ConfigOverrides;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}
