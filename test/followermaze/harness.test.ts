import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runHarness, type HarnessOptions } from '../../bench/followermaze/harness.js';
import { startMaze, waitUntil, type MazeOverrides, type RunningMaze } from './helpers.js';

/**
 * Our own harness (bench/followermaze/) against Herald, small and adversarial: every client's
 * lines are checked against its expected sequence exactly. And the harness itself is checked:
 * it must fail against servers that break the rules.
 */

let maze: RunningMaze | undefined;
afterEach(async () => {
  await maze?.stop();
  maze = undefined;
});

async function run(options: Partial<HarnessOptions> = {}, overrides: MazeOverrides = {}) {
  maze = await startMaze(overrides);
  const m = maze;
  const report = await runHarness({
    eventPort: m.eventPort,
    clientPort: m.clientPort,
    totalEvents: 10_000,
    concurrency: 100,
    timeoutMs: 5000,
    ready: (n) => waitUntil(() => m.maze.stats().registrations >= n, 5000, `${n} registrations`),
    ...options,
  });
  expect(report.failures).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.verified).toBeGreaterThan(0);
  // the server and the harness's model agree on the graph too
  expect(m.maze.stats().follows).toBe(report.follows);
  return report;
}

describe('the harness against herald', () => {
  it('10,000 events, 100 clients of 1,000 users, batches up to 100', async () => {
    const r = await run();
    expect(r.verified).toBe(r.notifications);
    expect(maze!.maze.stats()).toMatchObject({ dispatched: 10_000, notifications: r.notifications, waiting: 0 });
  });

  it('with CRLF line endings, and with mixed ones', async () => {
    await run({ lineEnding: 'crlf', totalEvents: 3000 });
    await maze!.stop();
    await run({ lineEnding: 'mixed', totalEvents: 3000, seed: 7 });
  });

  it('with the missing event arriving last (memory grows with the distance, then shrinks)', async () => {
    const r = await run({ holdBack: [1] });
    expect(r.verified).toBe(r.notifications);
    // 9,999 events waited: the ring grew to the power of two above that, no further
    expect(maze!.maze.sequencer.peakSlots).toBe(16_384);
    expect(maze!.maze.sequencer.slots).toBe(1024);
  });

  it('with several held-back events and a window just wide enough', async () => {
    await run({ holdBack: [2, 500, 4000], totalEvents: 5000 }, { reorderWindow: 5000 });
  });

  it('with clients registering twice under one id (the newer connection wins)', async () => {
    const r = await run({ duplicates: 10 });
    expect(maze!.maze.stats()).toMatchObject({ clients: 100, registrations: 110 });
    expect(r.verified).toBe(r.notifications);
  });

  it('with clients leaving mid-run', async () => {
    const r = await run({ leaving: 20, totalEvents: 20_000 });
    expect(r.clientsLeft).toBeGreaterThan(5);
    expect(r.verified).toBeLessThan(r.notifications); // the leavers' later notifications were not expected of them
  });

  it('with three sources at once, reconnecting every 1,000 events', async () => {
    const r = await run({ sources: 3, reconnectEvery: 1000 });
    expect(r.verified).toBe(r.notifications);
    expect(maze!.maze.stats().sources).toBe(0);
  });

  it('with malformed and overlong lines mixed in', async () => {
    const r = await run({ malformedRate: 0.5, overlongLineBytes: 2000 }, { maxLineBytes: 1024 });
    expect(r.malformedSent).toBeGreaterThan(50);
    expect(maze!.maze.stats().malformed).toBe(r.malformedSent);
    expect(r.verified).toBe(r.notifications);
  });

  it('with a batch size of 1 (fully ordered, one write per event)', async () => {
    await run({ maxBatch: 1, flushEveryBatch: true, totalEvents: 2000 });
  });
});

/** A server speaking the protocol wrongly: `forward` decides what each client gets of each line. */
async function brokenServer(forward: (line: string, clientIds: number[]) => Map<number, string>): Promise<{ eventPort: number; clientPort: number; close: () => void }> {
  const clientsById = new Map<number, Socket>();
  const sockets: Socket[] = [];
  const clientServer = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.once('data', (d) => clientsById.set(Number(String(d).trim()), s));
  });
  const eventServer = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    let rest = '';
    s.on('data', (d) => {
      const lines = (rest + String(d)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) for (const [id, text] of forward(line, [...clientsById.keys()])) clientsById.get(id)?.write(text);
    });
  });
  const listen = async (server: Server): Promise<number> => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  };
  return {
    eventPort: await listen(eventServer),
    clientPort: await listen(clientServer),
    close: () => {
      for (const s of sockets) s.destroy();
      eventServer.close();
      clientServer.close();
    },
  };
}

describe('the harness catches a broken server', () => {
  const options = { totalEvents: 3000, concurrency: 10, timeoutMs: 300 };

  it('one that sends every event to every client', async () => {
    const server = await brokenServer((line, ids) => new Map(ids.map((id) => [id, `${line}\r\n`])));
    try {
      const r = await runHarness({ ...options, eventPort: server.eventPort, clientPort: server.clientPort });
      expect(r.ok).toBe(false);
      expect(r.failures.join('\n')).toMatch(/expected|unexpected/);
    } finally {
      server.close();
    }
  });

  it('one that sends nothing', async () => {
    const server = await brokenServer(() => new Map());
    try {
      const r = await runHarness({ ...options, eventPort: server.eventPort, clientPort: server.clientPort });
      expect(r.ok).toBe(false);
      expect(r.failures.join('\n')).toMatch(/timed out/);
    } finally {
      server.close();
    }
  });

  it('one that gets the order of a batch wrong (forwards broadcasts as they arrive)', async () => {
    const server = await brokenServer((line, ids) => (line.endsWith('|B') ? new Map(ids.map((id) => [id, `${line}\r\n`])) : new Map()));
    try {
      const r = await runHarness({ ...options, eventPort: server.eventPort, clientPort: server.clientPort, mix: { status: 0, private: 0, broadcast: 0.5 }, avgFollowers: 0 });
      expect(r.ok).toBe(false);
    } finally {
      server.close();
    }
  });
});
