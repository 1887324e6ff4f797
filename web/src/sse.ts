/**
 * A Server-Sent Events parser (the WHATWG rules this dashboard needs: `id`, `event`, `data`,
 * comments, any of CR, LF, CRLF as line end, lines split across chunks). The dashboard reads SSE
 * with fetch rather than EventSource because EventSource only dispatches event types it was
 * told about in advance, and Herald names each frame after the event's own type; fetch also lets
 * the token travel in the Authorization header instead of the URL.
 */

export interface SseFrame {
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private hasData = false;
  /** The last `id:` seen, dispatched or not (what a reconnect resumes from). */
  lastId: string | undefined;
  /** A CR ended the previous chunk: a LF starting the next one belongs to it. */
  private pendingCr = false;

  constructor(private readonly onFrame: (frame: SseFrame) => void) {}

  push(chunk: string): void {
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = false;
    let text = this.buffer + chunk;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 === text.length) this.pendingCr = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = text.slice(start);
    text = '';
  }

  private line(line: string): void {
    if (line === '') {
      if (this.hasData) this.onFrame({ id: this.id, event: this.event === '' ? 'message' : this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      this.hasData = false;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = this.lastId = value;
        break;
    }
  }
}
