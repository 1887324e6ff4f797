import { HeraldError } from '../core/errors.js';
import type { KvListOptions, KvWrite } from './types.js';

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

/** Refuses key-value writes (or conditions) without a collection name or a string key. */
export function assertKvKeys(writes: readonly KvWrite[]): void {
  for (const w of writes) {
    if (typeof w.collection !== 'string' || w.collection === '' || typeof w.key !== 'string') {
      throw new HeraldError('bad_request', 'a key-value write needs a non-empty collection and a string key');
    }
  }
}

/** A value as `kvWriteIf` compares it: its JSON text (undefined for an absent key). */
export function kvJson(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new HeraldError('bad_request', `a key-value value must be JSON-like (${(err as Error).message})`);
  }
}
