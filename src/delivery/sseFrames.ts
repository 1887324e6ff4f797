/**
 * Server-Sent Events framing (WHATWG HTML, "Server-sent events"). Pure functions, fuzzed in
 * test/live/frames.test.ts against a parser written from the specification.
 *
 * A field value must not contain a line break: CR, LF and CRLF all end a line in SSE. So a
 * payload is split on every line break and sent as one `data:` line per line; the client joins
 * them with LF. A payload's CRLF and lone CR therefore arrive as LF (use the envelope format,
 * or WebSocket, where bytes must round-trip exactly).
 */

const LINE_BREAK = /\r\n|\r|\n/;

/** `data: …` lines for a text payload, each ending in LF. An empty payload is one empty data line. */
export function dataLines(text: string): string {
  if (!text.includes('\n') && !text.includes('\r')) return `data: ${text}\n`;
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out;
}

/**
 * One event: `id:`, `event:` (omitted when undefined), the data lines, and the blank line that
 * dispatches it. `id` and `event` must hold no line break (seqs are digits; event types are
 * printable ASCII by the store's rules), and `id` no NUL (the client would ignore it).
 */
export function sseEvent(id: string | undefined, event: string | undefined, data: string): string {
  let out = '';
  if (id !== undefined) out += `id: ${id}\n`;
  if (event !== undefined) out += `event: ${event}\n`;
  return `${out}${dataLines(data)}\n`;
}

/**
 * An event with only an id: the client records it as its Last-Event-ID but dispatches nothing
 * (its data buffer is empty). Sent with heartbeats when a filter skipped events, so a reconnect
 * does not scan them again.
 */
export function sseIdOnly(id: string): string {
  return `id: ${id}\n\n`;
}

/** A comment line (heartbeats); ignored by clients, keeps proxies from timing the stream out. */
export function sseComment(text: string): string {
  return `:${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** The reconnection delay hint. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
