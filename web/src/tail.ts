import { authHeaders, enc, type StoredEvent } from './api.js';
import { SseParser } from './sse.js';

/**
 * A live tail of one stream over SSE (`GET /streams/{stream}/sse?format=envelope&after=N`), read
 * with fetch so the token goes in the Authorization header. Reconnects after a drop from the
 * last seq received, so nothing is missed or repeated. `stop()` ends it (pause).
 */
export class Tail {
  private controller: AbortController | undefined;
  private stopped = false;
  private retry: number | undefined;
  /** The last seq received (also moved by id-only frames and gaps). */
  lastSeq: number;

  constructor(
    private readonly stream: string,
    after: number,
    private readonly onEvents: (events: StoredEvent[]) => void,
    private readonly onState: (state: 'connecting' | 'live' | 'error', detail?: string) => void,
  ) {
    this.lastSeq = after;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retry);
    this.controller?.abort();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.onState('connecting');
    const controller = (this.controller = new AbortController());
    try {
      const res = await fetch(`/streams/${enc(this.stream)}/sse?format=envelope&after=${this.lastSeq}`, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: controller.signal });
      if (!res.ok || res.body === null) {
        const text = await res.text();
        throw new Error(`${res.status}: ${text.slice(0, 200)}`);
      }
      this.onState('live');
      let batch: StoredEvent[] = [];
      const parser = new SseParser((frame) => {
        if (frame.event === 'herald.gap') return;
        batch.push(JSON.parse(frame.data) as StoredEvent);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        if (parser.lastId !== undefined) this.lastSeq = Math.max(this.lastSeq, Number(parser.lastId));
        if (batch.length > 0) {
          this.onEvents(batch);
          batch = [];
        }
      }
      throw new Error('the server closed the stream');
    } catch (err) {
      if (this.stopped) return;
      this.onState('error', err instanceof Error ? err.message : String(err));
      this.retry = window.setTimeout(() => void this.connect(), 1000);
    }
  }
}
