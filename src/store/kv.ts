import type { KvListOptions } from './types.js';

/** The keys of a sorted list that a `kvList` call selects: prefix, after, order and limit. */
export function selectKv(sortedKeys: readonly string[], options: Required<Pick<KvListOptions, 'limit' | 'reverse'>> & KvListOptions): string[] {
  const { prefix, after, limit, reverse } = options;
  const keys = sortedKeys.filter((k) => (prefix === undefined || k.startsWith(prefix)) && (after === undefined || (reverse ? k < after : k > after)));
  if (reverse) keys.reverse();
  return keys.slice(0, limit);
}

/** The first string after every string starting with `prefix` (an exclusive range end). */
export function prefixEnd(prefix: string): string {
  return prefix + '\uffff';
}
