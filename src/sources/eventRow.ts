/**
 * A row of EventPiper's `events` table, as its trigger notifies it (`row_to_json(NEW)`) and as
 * Herald reads it back (`row_to_json(e)`): one parser for both paths, fuzzed in
 * test/eventpiper/row.test.ts.
 */
export interface EventRow {
  /** BIGSERIAL; Herald requires it to be a safe integer. */
  id: number;
  type: string;
  /** As PostgreSQL renders `timestamp without time zone` in JSON: `2020-05-06T10:11:12.123456`. */
  timestamp: string;
  subscriber: string;
  /** The payload as compact JSON with object keys sorted, as the original sent it. */
  payloadJson: string;
}

/** Parses one row's JSON; undefined when it is not a row of the expected shape. */
export function parseEventRow(text: string): EventRow | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const row = value as Record<string, unknown>;
  const { id, type, timestamp, subscriber } = row;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
  if (typeof type !== 'string' || typeof subscriber !== 'string' || typeof timestamp !== 'string') return undefined;
  if (!('payload' in row)) return undefined;
  return { id, type, timestamp, subscriber, payloadJson: canonicalJson(row.payload) };
}

/**
 * Compact JSON with every object's keys in sorted order: the original (Elixir, Jason) encoded
 * payloads from small maps, which iterate in key order (`{"a":1,"b":2}` whatever the insert
 * order). Numbers beyond 2^53 lose precision here (JSON.parse), a documented difference.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort(byCodeUnits);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

function byCodeUnits(a: string, b: string): number {
  // Elixir compares binaries byte by byte (UTF-8); for strings this is the order of code points.
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = ca[i]!.codePointAt(0)! - cb[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}
