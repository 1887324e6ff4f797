import { isUtf8 } from 'node:buffer';
import type { StoredEvent } from '../../core/event.js';
import type { StreamInfo } from '../../store/types.js';
import { goString, renderJsonValue } from './json.js';
import { eventbusStreamName, goTime, streamUuid } from './names.js';
import type { Status } from './statuses.js';

/**
 * Herald streams and events as the original's objects (compat.md §3): a stream is
 * `{"id","name","created_at"}`, an event `{"id","stream_id","status","created_at","body"}`.
 */

export function renderStream(info: StreamInfo): string {
  return `{"id":"${streamUuid(info.name, info.created)}","name":${goString(eventbusStreamName(info.name))},"created_at":"${goTime(info.created)}"}`;
}

export function renderEvent(event: StoredEvent, streamId: string, status: Status): string {
  return `{"id":${goString(event.id)},"stream_id":"${streamId}","status":${status},"created_at":"${goTime(event.time)}","body":${renderBody(event)}}`;
}

const JSON_TYPE = /json/i;

/**
 * The event's `body`. The original only ever holds JSON; an event published in Herald by
 * another protocol may hold anything, so: a JSON payload as that JSON (compacted, HTML-escaped,
 * as Go writes a json.RawMessage); other UTF-8 text as a JSON string; other bytes as a
 * base64 string (what Go's encoder does with []byte). An empty payload is `null`.
 */
export function renderBody(event: StoredEvent): string {
  const data = event.data;
  if (data.byteLength === 0) return 'null';
  if (JSON_TYPE.test(event.contentType)) {
    const json = renderJsonValue(data);
    if (json !== undefined) return json;
  }
  if (isUtf8(data)) return goString(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  return goString(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'));
}
