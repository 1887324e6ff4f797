/** What /proc says about a process (Linux): memory and CPU time of the servers under test. */
import { readFileSync } from 'node:fs';

/** Fields of /proc/<pid>/status used here: all resident, its peak, anonymous, file-backed. */
export type MemoryField = 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile';

/** A memory field of /proc/<pid>/status, in bytes (NaN when absent). */
export function statusBytes(pid: number, field: MemoryField): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** Starts counting processes' CPU time: the returned function gives each one's CPU seconds since. */
export function cpuSince(pids: number[]): () => number[] {
  const before = pids.map(cpuSeconds);
  return () => pids.map((pid, i) => cpuSeconds(pid) - before[i]!);
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
