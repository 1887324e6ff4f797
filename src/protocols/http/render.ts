import type { AppendResult, StoredEvent } from '../../core/event.js';
import { essenceOf, isJsonType } from './media.js';

/**
 * Response bodies built as strings: the shapes are fixed and small, and a hand-built string
 * costs less than fastify's serializer on the publish hot path. The route schemas document
 * the same shapes for the OpenAPI document.
 */

/** `{"id","stream","seq"}` for one published event (201, or 200 for a duplicate). */
export function publishedBody(r: AppendResult): string {
  // Stream names are validated to plain characters; ids are printable ASCII but may hold `"`.
  return `{"id":${JSON.stringify(r.id)},"stream":"${r.stream}","seq":${r.seq}}`;
}

/**
 * A batch answer. One commit gives the stored events consecutive seqs in request order, so
 * `firstSeq`..`lastSeq` says where every stored event landed without a row per event: the
 * i-th event not listed in `duplicates` has seq `firstSeq + i`. `ids` are all the events' ids in
 * request order; `duplicates` (present only when there are any) lists the events whose id was
 * already stored, with the original position. firstSeq/lastSeq are null when nothing was stored.
 */
export function batchBody(stream: string, results: AppendResult[]): string {
  let first: number | null = null;
  let last: number | null = null;
  let stored = 0;
  const duplicates: Array<{ index: number; stream: string; seq: number }> = [];
  const ids: string[] = new Array<string>(results.length);
  results.forEach((r, index) => {
    ids[index] = r.id;
    if (r.duplicate) {
      duplicates.push({ index, stream: r.stream, seq: r.seq });
      return;
    }
    first ??= r.seq;
    last = r.seq;
    stored++;
  });
  const body: Record<string, unknown> = { stream, count: results.length, stored, firstSeq: first, lastSeq: last, ids };
  if (duplicates.length > 0) body.duplicates = duplicates;
  return JSON.stringify(body);
}

/** A stored event as JSON: the payload as `data` (a JSON value or text) or `data_base64`. */
type RenderedEvent = Omit<StoredEvent, 'data'> & { data?: unknown; data_base64?: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * One stored event for `GET …/events`: `data` is the parsed value for JSON payloads and a
 * string for text/*; anything else, or a payload that does not decode as its type claims,
 * comes as `data_base64`, so bytes always round-trip exactly.
 */
export function renderEvent(e: StoredEvent): RenderedEvent {
  // Built in this order so the JSON keys read in the documented order.
  const out = { stream: e.stream, seq: e.seq, id: e.id, type: e.type, time: e.time } as RenderedEvent;
  if (e.subject !== undefined) out.subject = e.subject;
  out.contentType = e.contentType;
  if (e.headers !== undefined) out.headers = e.headers;
  const essence = essenceOf(e.contentType);
  try {
    if (isJsonType(essence)) {
      out.data = JSON.parse(utf8.decode(e.data));
      return out;
    }
    if (essence.startsWith('text/')) {
      out.data = utf8.decode(e.data);
      return out;
    }
  } catch {
    // Not what its type says (possible for events from other adapters): fall through to bytes.
  }
  out.data_base64 = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('base64');
  return out;
}

/** `{"events":[…],"next":<seq>}`; `next` is the seq to pass as `after` for the following page. */
export function eventsPageBody(events: StoredEvent[], after: number): string {
  const next = events.length > 0 ? events[events.length - 1]!.seq : after;
  return JSON.stringify({ events: events.map(renderEvent), next });
}
