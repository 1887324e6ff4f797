import type { RetentionPolicy, StreamInfo } from './types.js';

/** What a store keeps about each stream. `sid` is an internal number used in event keys, so a
 * deleted stream's events can be purged in the background while a new stream of the same name
 * starts afresh. */
export interface StreamMeta {
  name: string;
  sid: number;
  created: string;
  /** Newest seq appended (0 when none). */
  head: number;
  /** Oldest seq still stored. */
  first: number;
  bytes: number;
  retention: RetentionPolicy;
}

export function newMeta(name: string, sid: number, created: string, retention: RetentionPolicy = {}): StreamMeta {
  return { name, sid, created, head: 0, first: 1, bytes: 0, retention: { ...retention } };
}

export function metaToInfo(meta: StreamMeta): StreamInfo {
  return {
    name: meta.name,
    created: meta.created,
    count: Math.max(0, meta.head - meta.first + 1),
    firstSeq: meta.first,
    lastSeq: meta.head,
    bytes: meta.bytes,
    retention: { ...meta.retention },
  };
}
