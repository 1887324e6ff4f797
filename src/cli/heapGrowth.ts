import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent.
 *
 * Left to itself, V8 picks a factor between 1.1x and 4x and, with a collector as fast as this
 * one, picks 4x: after a bulk ingest keeps about 25 MB alive, the heap may fill with about
 * 75 MB of garbage before the next full GC. That garbage is events that outlived a
 * young-generation GC, and more of them do while the machine is busy and commits take longer,
 * so RSS after a million events ranged from 145 to 246 MB between runs. At 1.5x a full GC comes
 * every ~12 MB promoted and costs ~10 ms with a live set this small; peak RSS then stayed within
 * 150–155 MB in the same conditions, with no loss of throughput (docs/decisions.md).
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * The V8 flag to set for the server process, or undefined when the operator chose a growth
 * factor through node's flags or NODE_OPTIONS.
 */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string): string | undefined {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg));
  return chosen ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/**
 * Applies heapGrowthFlag to this process. V8 reads the flag at every full GC, so setting it at
 * start-up takes effect; node calls runtime flag changes use-at-your-own-risk, and this one only
 * steers a heuristic.
 */
export function limitHeapGrowth(): void {
  const flag = heapGrowthFlag(process.execArgv, process.env.NODE_OPTIONS ?? '');
  if (flag !== undefined) setFlagsFromString(flag);
}
