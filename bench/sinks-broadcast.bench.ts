/**
 * sinks-broadcast: the equivalent of go-events' BenchmarkBroadcast10/100/1000/10000 — events
 * written one after another (each write awaited) through a Broadcaster to N no-op sinks, then
 * close (which waits for every dispatch). Reports events/s and deliveries/s (events × sinks), and,
 * as a reference, the same deliveries done by a bare loop awaiting each sink in turn. Best of 3 runs.
 */
import { Broadcaster, type Sink } from '../src/sinks/index.js';
import { report, round, type Row } from './lib.js';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 2_000_000);
const SIZES = [10, 100, 1000, 10_000];
const RUNS = 3; // best of, alternating with the bare loop: this machine is shared

const noop = (): Sink<string> => ({ write: async () => {}, close: async () => {} });

async function broadcast(nsinks: number, events: number): Promise<number> {
  const b = new Broadcaster<string>(Array.from({ length: nsinks }, noop));
  const started = performance.now();
  for (let i = 0; i < events; i++) await b.write('myevent');
  await b.close();
  return (performance.now() - started) / 1000;
}

async function bareLoop(nsinks: number, events: number): Promise<number> {
  const sinks = Array.from({ length: nsinks }, noop);
  const started = performance.now();
  for (let i = 0; i < events; i++) for (const sink of sinks) await sink.write('myevent');
  for (const sink of sinks) await sink.close();
  return (performance.now() - started) / 1000;
}

const rows: Row[] = [];
for (const nsinks of SIZES) {
  const events = Math.max(100, Math.round(DELIVERIES / nsinks));
  await broadcast(nsinks, Math.ceil(events / 10)); // warm-up
  await bareLoop(nsinks, Math.ceil(events / 10));
  let seconds = Infinity;
  let bare = Infinity;
  for (let run = 0; run < RUNS; run++) {
    seconds = Math.min(seconds, await broadcast(nsinks, events));
    bare = Math.min(bare, await bareLoop(nsinks, events));
  }
  rows.push({
    case: `Broadcast${nsinks}`,
    events,
    'events/s': round(events / seconds),
    'deliveries/s': round((events * nsinks) / seconds),
    'ns/delivery': round((seconds * 1e9) / (events * nsinks)),
    'bare loop deliveries/s (reference)': round((events * nsinks) / bare),
    'ratio / bare loop': round(bare / seconds, 2),
  });
}

report({
  name: 'sinks-broadcast',
  title: `herald/sinks Broadcaster to N no-op sinks (go-events BenchmarkBroadcastN), ~${DELIVERIES} deliveries per case`,
  goal: 'report deliveries/s; no goal in the issue',
  met: true,
  rows,
  notes: [
    'Each write is awaited before the next (one producer), as go-events benchmarkSink does; deliveries = events × sinks; best of 3 runs.',
    'Reference: a bare loop awaiting each no-op sink in turn (one await per delivery, no Broadcaster); a ratio near 1 means the Broadcaster costs about nothing beyond that await.',
  ],
});
