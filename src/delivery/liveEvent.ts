import { isUtf8 } from 'node:buffer';
import type { StoredEvent } from '../core/event.js';
import { renderEvent } from '../protocols/http/render.js';
import { essenceOf, isJsonType } from '../protocols/http/media.js';
import { sseEvent } from './sseFrames.js';

/**
 * How a live connection shows an event:
 * - `sse`: `id:` seq, `event:` type, `data:` the payload as text (base64 when it is not text);
 * - `sse-envelope`: the same, with `data:` the event as JSON, as `GET …/events` renders it;
 * - `ws`: the event as JSON (one WebSocket text message).
 */
export type FrameFormat = 'sse' | 'sse-envelope' | 'ws';

/**
 * A stored event with its frames, encoded at most once per format however many connections
 * receive it: a broadcast to 10,000 connections costs one encoding and 10,000 writes of the
 * same buffer.
 */
export class LiveEvent {
  private sse: Buffer | undefined;
  private envelope: Buffer | undefined;
  private json: Buffer | undefined;

  constructor(readonly event: StoredEvent) {}

  frame(format: FrameFormat): Buffer {
    switch (format) {
      case 'sse':
        return (this.sse ??= Buffer.from(sseEvent(String(this.event.seq), this.event.type, payloadText(this.event)), 'utf8'));
      case 'sse-envelope':
        return (this.envelope ??= Buffer.from(sseEvent(String(this.event.seq), this.event.type, this.jsonText()), 'utf8'));
      case 'ws':
        return (this.json ??= Buffer.from(this.jsonText(), 'utf8'));
    }
  }

  private jsonText(): string {
    return JSON.stringify(renderEvent(this.event));
  }
}

/**
 * A run of consecutive stored events (consecutive but for what retention removed) read once
 * for every caught-up connection of a stream. `all(format)` is every frame of the batch in one
 * buffer, so an unfiltered SSE connection gets a batch in one write.
 */
export class LiveBatch {
  private readonly joined = new Map<FrameFormat, Buffer>();

  constructor(readonly events: readonly LiveEvent[]) {}

  get firstSeq(): number {
    return this.events[0]!.event.seq;
  }

  get lastSeq(): number {
    return this.events[this.events.length - 1]!.event.seq;
  }

  all(format: FrameFormat): Buffer {
    if (this.events.length === 1) return this.events[0]!.frame(format);
    let buf = this.joined.get(format);
    if (buf === undefined) {
      buf = Buffer.concat(this.events.map((e) => e.frame(format)));
      this.joined.set(format, buf);
    }
    return buf;
  }
}

/**
 * The payload as SSE text: JSON and `text/*` payloads that are valid UTF-8 as they are,
 * anything else base64-encoded (SSE carries text only; the envelope format says which).
 */
export function payloadText(e: StoredEvent): string {
  const bytes = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  const essence = essenceOf(e.contentType);
  if ((isJsonType(essence) || essence.startsWith('text/')) && isUtf8(bytes)) return bytes.toString('utf8');
  return bytes.toString('base64');
}
