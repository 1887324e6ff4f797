import { useRef } from 'preact/hooks';
import { api, enc, formatBytes, type StreamInfo, type SystemInfo } from './api.js';
import { RateChart, fmtRate } from './chart.js';
import { usePoll } from './usePoll.js';

const POLL_MS = 1000;
const HISTORY = 120;

interface Sample {
  at: number;
  lastSeq: Map<string, number>;
}

/** Rates come from the change of each stream's lastSeq between polls (the public /streams answer). */
function useRates(streams: StreamInfo[] | undefined): { perStream: Map<string, number[]>; total: number[] } {
  const prev = useRef<Sample | undefined>(undefined);
  const history = useRef<{ perStream: Map<string, number[]>; total: number[] }>({ perStream: new Map(), total: [] });
  const seen = useRef<StreamInfo[] | undefined>(undefined);
  if (streams !== undefined && streams !== seen.current) {
    seen.current = streams;
    const now = performance.now();
    const sample: Sample = { at: now, lastSeq: new Map(streams.map((s) => [s.name, s.lastSeq])) };
    const p = prev.current;
    if (p !== undefined && now > p.at) {
      const seconds = (now - p.at) / 1000;
      let total = 0;
      for (const s of streams) {
        const before = p.lastSeq.get(s.name) ?? s.lastSeq;
        const rate = Math.max(0, s.lastSeq - before) / seconds;
        total += rate;
        const series = history.current.perStream.get(s.name) ?? [];
        series.push(rate);
        if (series.length > HISTORY) series.shift();
        history.current.perStream.set(s.name, series);
      }
      history.current.total.push(total);
      if (history.current.total.length > HISTORY) history.current.total.shift();
    }
    prev.current = sample;
  }
  return history.current;
}

export function Overview() {
  const streams = usePoll(() => api<{ streams: StreamInfo[] }>('GET', '/streams').then((r) => r.streams), POLL_MS);
  const system = usePoll(() => api<SystemInfo>('GET', '/system'), 2000);
  const rates = useRates(streams.data);
  const last = (name: string): number => {
    const s = rates.perStream.get(name);
    return s && s.length > 0 ? s[s.length - 1]! : 0;
  };
  return (
    <section aria-labelledby="overview-h">
      <h1 id="overview-h">Overview</h1>
      <div class="cards">
        <section class="card" aria-labelledby="rates-h">
          <h2 id="rates-h">Publish rate</h2>
          <RateChart values={rates.total} label="All streams" width={420} height={90} />
        </section>
        <section class="card" aria-labelledby="store-h">
          <h2 id="store-h">Store</h2>
          {system.error && <p role="alert">{system.error}</p>}
          {system.data && (
            <dl class="kv">
              <dt>Kind</dt><dd data-testid="store-kind">{system.data.store.kind}{system.data.store.open ? '' : ' (closed)'}</dd>
              <dt>Streams</dt><dd>{system.data.store.streams}</dd>
              <dt>Events</dt><dd>{system.data.store.events}</dd>
              <dt>Payload bytes</dt><dd>{formatBytes(system.data.store.bytes)}</dd>
              {system.data.store.diskBytes !== undefined && (<><dt>On disk</dt><dd>{formatBytes(system.data.store.diskBytes)}</dd></>)}
              <dt>Up</dt><dd>{system.data.uptimeSeconds} s</dd>
            </dl>
          )}
        </section>
      </div>
      <section aria-labelledby="listeners-h">
        <h2 id="listeners-h">Listeners</h2>
        <table aria-labelledby="listeners-h">
          <thead><tr><th scope="col">Listener</th><th scope="col">Address</th><th scope="col">Connections</th></tr></thead>
          <tbody>
            {(system.data?.listeners ?? []).map((l) => (
              <tr key={l.name + (l.url ?? '')}><td>{l.name}</td><td><code>{l.url ?? 'not listening'}</code></td><td>{l.connections ?? '–'}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="streams-h">
        <h2 id="streams-h">Streams</h2>
        {streams.error && <p role="alert">{streams.error}</p>}
        <table aria-labelledby="streams-h" data-testid="streams-table">
          <thead><tr><th scope="col">Stream</th><th scope="col">Events</th><th scope="col">Last seq</th><th scope="col">Bytes</th><th scope="col">Rate (events/s)</th><th scope="col">Recent rate</th></tr></thead>
          <tbody>
            {(streams.data ?? []).map((s) => (
              <tr key={s.name} data-stream={s.name}>
                <th scope="row"><a href={`#/stream/${enc(s.name)}`}>{s.name}</a></th>
                <td>{s.count}</td>
                <td>{s.lastSeq}</td>
                <td>{formatBytes(s.bytes)}</td>
                <td class="rate" data-testid={`rate-${s.name}`}>{fmtRate(last(s.name))}</td>
                <td><RateChart values={rates.perStream.get(s.name) ?? []} label={`${s.name} rate`} width={160} height={28} /></td>
              </tr>
            ))}
            {streams.data?.length === 0 && <tr><td colSpan={6}>No streams yet: publish with <code>POST /streams/&lt;name&gt;/events</code>.</td></tr>}
          </tbody>
        </table>
      </section>
    </section>
  );
}
