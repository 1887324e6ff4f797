/**
 * sinks-broadcast: the equivalent of go-events' BenchmarkBroadcast10/100/1000/10000 — events
 * written one after another (each write awaited) through a Broadcaster to N no-op sinks, then
 * close (which waits for every dispatch). Reports events/s and deliveries/s (events × sinks), and,
 * as a ceiling, the same deliveries done by a bare loop awaiting each sink in turn.
 */
import { Broadcaster, type Sink } from '../src/sinks/index.js';
import { report, round, type Row } from './lib.js';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 2_000_000);
const SIZES = [10, 100, 1000, 10_000];

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
  const seconds = await broadcast(nsinks, events);
  const ceiling = await bareLoop(nsinks, events);
  rows.push({
    case: `Broadcast${nsinks}`,
    events,
    'events/s': round(events / seconds),
    'deliveries/s': round((events * nsinks) / seconds),
    'ns/delivery': round((seconds * 1e9) / (events * nsinks)),
    'bare loop deliveries/s (ceiling)': round((events * nsinks) / ceiling),
    'ratio / ceiling': round(ceiling / seconds, 2),
  });
}

report({
  name: 'sinks-broadcast',
  title: `herald/sinks Broadcaster to N no-op sinks (go-events BenchmarkBroadcastN), ~${DELIVERIES} deliveries per case`,
  goal: 'report deliveries/s; no goal in the issue',
  met: true,
  rows,
  notes: [
    'Each write is awaited before the next (one producer), as go-events benchmarkSink does; deliveries = events × sinks.',
    'Ceiling: a bare loop awaiting each no-op sink in turn — the cost of one await per delivery without the Broadcaster.',
  ],
});
