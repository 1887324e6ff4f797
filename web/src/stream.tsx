import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, enc, type StoredEvent, type StreamInfo } from './api.js';
import { Tail } from './tail.js';

/** Events kept in the page: older ones fall off (the list is a window on the stream, not a copy). */
export const MAX_EVENTS = 5000;
const ROW = 24;
const VIEW_ROWS = 20;
const OVERSCAN = 6;
/** Arrivals are drawn at most this often: 10 redraws a second read as live, and each one repaints the list. */
const DRAW_EVERY_MS = 100;
/** Events shown from before "now" when the page opens. */
const BACKLOG = 100;

/**
 * The stream page: a live tail over SSE into a bounded buffer, drawn as a virtualised list (only
 * the rows in view exist in the DOM), with pause/resume, jump to a seq or an id, and the
 * selected event's metadata and pretty-printed payload. Arrivals are coalesced into one render
 * every 100 ms (on an animation frame), so 1,000 events/s costs 10 renders a second, not 1,000.
 */
export function StreamPage({ name }: { name: string }) {
  const buffer = useRef<StoredEvent[]>([]);
  const pending = useRef<StoredEvent[]>([]);
  const frame = useRef<number | undefined>(undefined);
  const tail = useRef<Tail | undefined>(undefined);
  const listRef = useRef<HTMLDivElement>(null);
  const [, setVersion] = useState(0);
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(true);
  const [state, setState] = useState('connecting');
  const [error, setError] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [scrollTop, setScrollTop] = useState(0);
  const [jump, setJump] = useState('');
  const [received, setReceived] = useState(0);
  const receivedRef = useRef(0);

  const flush = (): void => {
    frame.current = undefined;
    const add = pending.current;
    pending.current = [];
    const buf = buffer.current;
    for (const e of add) buf.push(e);
    if (buf.length > MAX_EVENTS) buf.splice(0, buf.length - MAX_EVENTS);
    setReceived(receivedRef.current);
    setVersion((v) => v + 1);
  };

  const start = (after: number): void => {
    tail.current?.stop();
    tail.current = new Tail(name, after, (events) => {
      for (const e of events) pending.current.push(e);
      receivedRef.current += events.length;
      frame.current ??= window.setTimeout(() => requestAnimationFrame(flush), DRAW_EVERY_MS);
    }, (s, detail) => {
      setState(s);
      setError(detail);
    });
  };

  const restartAt = (after: number): void => {
    buffer.current = [];
    pending.current = [];
    setSelected(undefined);
    setPaused(false);
    start(after);
    setVersion((v) => v + 1);
  };

  useEffect(() => {
    let cancelled = false;
    api<StreamInfo>('GET', `/streams/${enc(name)}`)
      .then((info) => !cancelled && start(Math.max(info.firstSeq - 1, info.lastSeq - BACKLOG)))
      .catch((err) => !cancelled && setError(err instanceof ApiError ? err.message : String(err)));
    return () => {
      cancelled = true;
      tail.current?.stop();
      window.clearTimeout(frame.current);
    };
  }, [name]);

  const events = buffer.current;
  // Following: keep the newest rows in view.
  useEffect(() => {
    const el = listRef.current;
    if (follow && el !== null) el.scrollTop = el.scrollHeight;
  });

  const togglePause = (): void => {
    if (paused) start(tail.current?.lastSeq ?? 0);
    else {
      tail.current?.stop();
      setState('paused');
    }
    setPaused(!paused);
  };

  const doJump = async (e: Event): Promise<void> => {
    e.preventDefault();
    const value = jump.trim();
    if (value === '') return;
    try {
      let seq: number;
      if (/^[0-9]+$/.test(value)) seq = Number(value);
      else {
        const found = await api<{ stream: string; seq: number }>('GET', `/events/${enc(value)}`);
        if (found.stream !== name) {
          location.hash = `#/stream/${enc(found.stream)}`;
          return;
        }
        seq = found.seq;
      }
      setFollow(false);
      restartAt(Math.max(0, seq - 1));
      setSelected(seq);
      if (listRef.current) listRef.current.scrollTop = 0;
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  const index = selected === undefined ? -1 : events.findIndex((e) => e.seq === selected);
  const select = (i: number): void => {
    const e = events[Math.max(0, Math.min(events.length - 1, i))];
    if (!e) return;
    setSelected(e.seq);
    setFollow(false);
    const el = listRef.current;
    if (el) {
      const row = events.indexOf(e) * ROW;
      if (row < el.scrollTop) el.scrollTop = row;
      else if (row + ROW > el.scrollTop + el.clientHeight) el.scrollTop = row + ROW - el.clientHeight;
    }
  };
  const onKey = (e: KeyboardEvent): void => {
    const keys: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: VIEW_ROWS, PageUp: -VIEW_ROWS };
    if (e.key in keys) select((index < 0 ? events.length - 1 : index) + keys[e.key]!);
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') {
      select(events.length - 1);
      setFollow(true);
    } else return;
    e.preventDefault();
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(events.length, first + VIEW_ROWS + OVERSCAN * 2);
  const rows = [];
  for (let i = first; i < last; i++) {
    const e = events[i]!;
    rows.push(
      <div key={e.seq} id={`ev-${e.seq}`} role="option" aria-selected={e.seq === selected} class={`row${e.seq === selected ? ' sel' : ''}`} style={{ top: `${i * ROW}px` }} onClick={() => select(i)}>
        <span class="seq">{e.seq}</span>
        <span class="time">{e.time.slice(11, 23)}</span>
        <span class="type">{e.type}</span>
        <span class="id">{e.id}</span>
      </div>,
    );
  }
  const current = index >= 0 ? events[index] : undefined;

  return (
    <section aria-labelledby="stream-h">
      <h1 id="stream-h">Stream <code>{name}</code></h1>
      <div class="toolbar" role="toolbar" aria-label="Tail controls">
        <button type="button" onClick={togglePause} aria-pressed={paused}>{paused ? 'Resume' : 'Pause'}</button>
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow newest</label>
        <form onSubmit={(e) => void doJump(e)} class="inline">
          <label for="jump">Jump to seq or id</label>
          <input id="jump" value={jump} onInput={(e) => setJump((e.target as HTMLInputElement).value)} placeholder="e.g. 1200 or an event id" />
          <button type="submit">Jump</button>
        </form>
        <span class="status" role="status" aria-live="polite" data-testid="tail-state">{state}{error ? `: ${error}` : ''}</span>
        <span class="muted" data-testid="tail-received">{received} received · {events.length} kept (max {MAX_EVENTS})</span>
      </div>
      <div class="split">
        <div
          ref={listRef}
          class="list"
          tabIndex={0}
          role="listbox"
          aria-label={`Events of ${name} (arrow keys move, End follows the newest)`}
          aria-activedescendant={current ? `ev-${current.seq}` : undefined}
          style={{ height: `${VIEW_ROWS * ROW}px` }}
          onScroll={(e) => {
            const el = e.currentTarget as HTMLDivElement;
            setScrollTop(el.scrollTop);
            if (el.scrollTop + el.clientHeight < el.scrollHeight - ROW) setFollow(false);
          }}
          onKeyDown={onKey}
          data-testid="event-list"
        >
          <div class="spacer" style={{ height: `${events.length * ROW}px` }}>{rows}</div>
        </div>
        <EventDetail event={current} />
      </div>
    </section>
  );
}

function EventDetail({ event }: { event: StoredEvent | undefined }) {
  if (event === undefined) return <aside class="detail" aria-label="Selected event"><p class="muted">Select an event (click, or arrow keys in the list) to see its metadata and payload.</p></aside>;
  const payload = event.data !== undefined ? JSON.stringify(event.data, null, 2) : event.data_base64 !== undefined ? `base64: ${event.data_base64}` : '';
  return (
    <aside class="detail" aria-label="Selected event" data-testid="event-detail">
      <h2>Event {event.seq}</h2>
      <dl class="kv">
        <dt>Id</dt><dd><code>{event.id}</code></dd>
        <dt>Type</dt><dd>{event.type}</dd>
        <dt>Time</dt><dd>{event.time}</dd>
        {event.subject !== undefined && (<><dt>Subject</dt><dd>{event.subject}</dd></>)}
        <dt>Content type</dt><dd>{event.contentType}</dd>
        {event.headers && Object.entries(event.headers).map(([k, v]) => (<><dt>{k}</dt><dd>{v}</dd></>))}
      </dl>
      <h3>Payload</h3>
      <pre class="payload" tabIndex={0} aria-label="Payload">{payload}</pre>
    </aside>
  );
}
