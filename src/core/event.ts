/** The one shape every stored event has, whichever protocol brought it in (DESIGN.md §2). */
export interface StoredEvent {
  /** The stream the event belongs to. */
  stream: string;
  /** 1, 2, 3 … gap-free and strictly increasing within a stream. */
  seq: number;
  /** Globally unique; UUIDv7 unless the producer supplied one. */
  id: string;
  /** "order.created"; "message" when the producer gives none. */
  type: string;
  /** RFC 3339, set when the event is appended. */
  time: string;
  /** Routing key: an EventPiper consumer id, a user id … */
  subject?: string;
  /** The payload's media type; the payload is kept byte-exact. */
  contentType: string;
  /** The payload. */
  data: Uint8Array;
  /** Ingress metadata that an egress adapter may forward. */
  headers?: Record<string, string>;
}

/** What a producer hands to `append`: everything but the position, which the store assigns. */
export interface EventInput {
  stream: string;
  /** Producer-chosen id (idempotency key); generated when absent. */
  id?: string;
  type?: string;
  subject?: string;
  contentType?: string;
  data: Uint8Array;
  headers?: Record<string, string>;
}

/** Where an appended event landed. `duplicate` is true when its id was already stored. */
export interface AppendResult {
  stream: string;
  seq: number;
  id: string;
  duplicate: boolean;
}

export const DEFAULT_EVENT_TYPE = 'message';
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
