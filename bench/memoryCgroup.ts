import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A memory cgroup that holds a benchmark's server to a limit the kernel enforces: anonymous
 * memory and the page cache the process touches (LMDB's mapped pages) are both charged to it,
 * and clean file pages are reclaimed when the group reaches its limit. Without one, the kernel
 * leaves every page LMDB has read mapped while memory is plentiful, so a process that reads a
 * 300 MB data file shows ~300 MB more RSS however little it needs.
 */
export interface MemoryCgroup {
  readonly limitBytes: number;
  /** A command line that joins the group before it runs `command` (so all its memory is charged). */
  wrap(command: string, args: string[]): [string, string[]];
  /** Highest charge seen (anonymous plus page cache), in bytes; NaN where the kernel does not say. */
  peakBytes(): number;
  /** How often the group hit its limit and the kernel reclaimed pages for it. */
  limitHits(): number;
  /** Processes the kernel killed for lack of memory in the group. */
  oomKills(): number;
  /** Removes the group (its processes must have exited). */
  remove(): void;
}

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOTS = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

/** Where each controller version keeps what this module reads and writes. */
interface Layout {
  limit: string;
  peak: string;
  /** File and "name value" field counting limit hits, and the same for OOM kills. */
  hits: [file: string, field: string | undefined];
  kills: [file: string, field: string];
}

/** cgroup v1 counts limit hits as a bare number in memory.failcnt. */
const V1: Layout = { limit: 'memory.limit_in_bytes', peak: 'memory.max_usage_in_bytes', hits: ['memory.failcnt', undefined], kills: ['memory.oom_control', 'oom_kill'] };
const V2: Layout = { limit: 'memory.max', peak: 'memory.peak', hits: ['memory.events', 'max'], kills: ['memory.events', 'oom_kill'] };

/** A new memory cgroup limited to `limitBytes`, or undefined where none can be made (not root, no controller). */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | undefined {
  try {
    if (existsSync(join(V1_ROOT, V1.limit))) return create(join(V1_ROOT, name), limitBytes, V1);
    const root = V2_ROOTS.find((r) => readOr(join(r, 'cgroup.controllers'), '').split(/\s+/).includes('memory'));
    return root === undefined ? undefined : create(join(root, name), limitBytes, V2);
  } catch {
    return undefined;
  }
}

function create(path: string, limitBytes: number, layout: Layout): MemoryCgroup {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, layout.limit), String(limitBytes));
  const count = ([file, name]: [string, string | undefined]): number => {
    const text = readOr(join(path, file), '');
    return name === undefined ? Number(text || 0) : field(text, name);
  };
  return {
    limitBytes,
    // `sh` writes its own pid into the group, then becomes the command.
    wrap: (command, args) => ['/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', path, command, ...args]],
    peakBytes: () => Number(readOr(join(path, layout.peak), 'NaN')),
    limitHits: () => count(layout.hits),
    oomKills: () => count(layout.kills),
    remove: () => rmdirSync(path),
  };
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** The number after `name` in a "name value" per line file (0 when absent). */
function field(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(/\s+/)[1]);
}
