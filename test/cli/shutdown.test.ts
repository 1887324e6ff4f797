import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { serve, stopServe, type Served } from './helpers.js';

/** `herald serve` shutdown: ordered, loses no acknowledged event, and a second signal exits at once. */

const dirs: { cleanup: () => void }[] = [];
const running: Served[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => stopServe(s)));
  for (const d of dirs) d.cleanup();
});

function dataDir(): string {
  const d = tempDir('herald-shutdown-');
  dirs.push(d);
  return d.path;
}

async function start(args: string[]): Promise<Served> {
  const s = await serve(args);
  running.push(s);
  return s;
}

interface Ack {
  seq: number;
  id: string;
  n: number;
}

/** Reads a whole stream over HTTP. */
async function readAll(url: string, stream: string): Promise<{ seq: number; id: string; data: { n: number } }[]> {
  const out: { seq: number; id: string; data: { n: number } }[] = [];
  let after = 0;
  for (;;) {
    const page = (await (await fetch(`${url}/streams/${stream}/events?after=${after}&limit=1000`)).json()) as { events: { seq: number; id: string; data: { n: number } }[]; next: number };
    out.push(...page.events);
    if (page.events.length < 1000) return out;
    after = page.next;
  }
}

describe('herald serve shutdown', () => {
  it('keeps every event answered 201 across SIGTERM during a publish burst', async () => {
    const dir = dataDir();
    const first = await start(['--data', dir, '--port', '0']);
    const acked: Ack[] = [];
    let n = 0;
    let inFlightAtSignal = 0;
    let inFlight = 0;
    let stop = false;
    // Writers publish single events and NDJSON batches back to back until the server goes away.
    const writer = async (batch: boolean): Promise<void> => {
      while (!stop) {
        const ns = batch ? Array.from({ length: 20 }, () => ++n) : [++n];
        inFlight++;
        try {
          const res = await fetch(`${first.url}/streams/burst/events`, {
            method: 'POST',
            signal: AbortSignal.timeout(15_000),
            headers: { 'content-type': batch ? 'application/x-ndjson' : 'application/json' },
            body: ns.map((i) => JSON.stringify({ n: i })).join('\n'),
          });
          const body = (await res.json()) as { seq?: number; id?: string; firstSeq?: number; ids?: string[] };
          if (res.status === 201) {
            if (batch) ns.forEach((i, k) => acked.push({ n: i, seq: body.firstSeq! + k, id: body.ids![k]! }));
            else acked.push({ n: ns[0]!, seq: body.seq!, id: body.id! });
          } else if (res.status < 500) {
            throw new Error(`unexpected ${res.status}: ${JSON.stringify(body)}`);
          }
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('unexpected')) throw err;
          return; // connection refused or reset: the server has stopped accepting
        } finally {
          inFlight--;
        }
      }
    };
    const writers = [...Array.from({ length: 12 }, () => writer(false)), ...Array.from({ length: 4 }, () => writer(true))];
    let writersDone = false;
    const allWriters = Promise.all(writers).finally(() => (writersDone = true));
    while (acked.length < 500 && !writersDone) await new Promise((r) => setTimeout(r, 5));
    expect(writersDone, `writers stopped early; server logs:\n${first.logs.map((l) => JSON.stringify(l)).join('\n')}\n${first.stderr()}`).toBe(false);
    inFlightAtSignal = inFlight;
    first.child.kill('SIGTERM');
    const exit = await Promise.race([
      first.exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no exit 10 s after SIGTERM (${inFlight} requests in flight); logs:\n${first.logs.map((l) => JSON.stringify(l)).join('\n')}\n${first.stderr()}`)), 10_000)),
    ]);
    stop = true;
    await allWriters;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(inFlightAtSignal).toBeGreaterThan(0);
    expect(first.logs).toContainEqual(expect.objectContaining({ signal: 'SIGTERM', msg: expect.stringContaining('shutting down') }));
    expect(first.logs.at(-1)).toMatchObject({ msg: 'stopped' });

    const second = await start(['--data', dir, '--port', '0']);
    const stored = await readAll(second.url, 'burst');
    const bySeq = new Map(stored.map((e) => [e.seq, e]));
    const lost = acked.filter((a) => bySeq.get(a.seq)?.id !== a.id || bySeq.get(a.seq)?.data.n !== a.n);
    expect(lost).toEqual([]);
    // Gap-free from 1: nothing was half-written either.
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.length).toBeGreaterThanOrEqual(acked.length);
  });

  it('exits at once on a second signal while a request holds the shutdown up', async () => {
    const served = await start(['--memory', '--port', '0']);
    const { hostname, port } = new URL(served.url);
    // A request whose body never finishes: stopping the listener waits for it.
    const socket: Socket = connect(Number(port), hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.on('error', () => {});
    socket.write('POST /streams/slow/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    await new Promise((r) => setTimeout(r, 200));
    served.child.kill('SIGTERM');
    await served.waitForLog((l) => l.signal === 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(served.child.exitCode).toBeNull(); // still draining
    const sent = Date.now();
    served.child.kill('SIGINT');
    const exit = await served.exited;
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(exit).toEqual({ code: 130, signal: null });
    expect(served.logs).toContainEqual(expect.objectContaining({ signal: 'SIGINT', msg: 'received SIGINT again during shutdown: exiting now' }));
    socket.destroy();
  });
});
