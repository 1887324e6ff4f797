import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { startServer } from '../../src/server.js';
import { serve } from '../cli/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { clients, dispatched, settle, source, startMaze, waitUntil, type RunningMaze } from './helpers.js';

/** followermaze.persist on a real LMDB, and followermaze.stream. */

let dir: { path: string; cleanup: () => void };
let maze: RunningMaze | undefined;
beforeEach(() => {
  dir = tempDir('herald-fm-');
});
afterEach(async () => {
  await maze?.stop();
  maze = undefined;
  dir.cleanup();
});

describe('persist', () => {
  it('a restarted server carries on where it stopped: next seq, follower graph, and the events still waiting', async () => {
    maze = await startMaze({ persist: true }, dir.path);
    let src = await source(maze.eventPort);
    // 1 follows 2, 3 follows 2, 1 follows 3, 3 unfollows 2; 6 and 7 arrive before 5
    src.write('1|F|1|2\n2|F|3|2\n3|F|1|3\n4|U|3|2\n6|S|2\n7|P|1|3\n');
    await dispatched(maze, 4);
    await waitUntil(() => maze!.maze.stats().waiting === 2);
    await maze.stop();

    maze = await startMaze({ persist: true }, dir.path);
    expect(maze.maze.stats()).toMatchObject({ nextSeq: 5, waiting: 2, follows: 2 });
    expect([...maze.maze.graph.entries()].sort((a, b) => a.id - b.id)).toEqual([
      { id: 2, followers: [1] },
      { id: 3, followers: [1] },
    ]);
    expect(maze.logs.some((l) => String(l.msg).includes('expecting event 5'))).toBe(true);
    const [u1, u3] = await clients(maze, [1, 3]);
    src = await source(maze.eventPort);
    src.write('5|S|3\n');
    // 5: 3's status reaches its follower 1; then the saved 6 (2's status, to 1) and 7 (to 3)
    expect(await u1!.lines(2)).toEqual(['5|S|3\r\n', '6|S|2\r\n']);
    expect(await u3!.lines(1)).toEqual(['7|P|1|3\r\n']);
  });

  it('saves every persistIntervalMs; after a SIGKILL the saved seq and graph belong together', async () => {
    const served = await serve(['--port', '0', '--data', dir.path], { HERALD_FOLLOWERMAZE_PERSIST: 'true', HERALD_FOLLOWERMAZE_PERSIST_INTERVAL_MS: '20' });
    try {
      const line = await served.waitForLog((l) => l.listener === 'followermaze-events');
      const port = Number(String(line.url).split(':').at(-1));
      const src = await source(port);
      // 1..100: user k+1 follows user 1 (a graph that grows with every event)
      for (let seq = 1; seq <= 100; seq++) src.write(`${seq}|F|${seq + 1}|1\n`);
      await settle(200); // several snapshots, the last one with everything
      for (let seq = 101; seq <= 5000; seq++) src.write(`${seq}|F|${seq + 1}|1\n`);
      await settle(5);
    } finally {
      served.child.kill('SIGKILL');
      await served.exited;
    }
    maze = await startMaze({ persist: true }, dir.path);
    const next = maze.maze.sequencer.next;
    expect(next).toBeGreaterThan(100);
    // events 1..next-1, and only those, are in the graph: user 1's followers are 2..next
    expect(maze.maze.graph.edges).toBe(next - 1);
    const followers = [...maze.maze.graph.entries()].find((e) => e.id === 1)!.followers.sort((a, b) => a - b);
    expect(followers).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 2));
  });

  it('is off by default: a restart starts again from 1', async () => {
    maze = await startMaze({}, dir.path);
    const src = await source(maze.eventPort);
    src.write('1|F|1|2\n');
    await dispatched(maze, 1);
    await maze.stop();
    maze = await startMaze({}, dir.path);
    expect(maze.maze.stats()).toMatchObject({ nextSeq: 1, follows: 0 });
  });
});

describe('stream mirror', () => {
  it('appends every dispatched event to the stream, in sequence order', async () => {
    maze = await startMaze({ stream: 'maze', streamBatchSize: 3 }, dir.path);
    const src = await source(maze.eventPort);
    src.write('2|S|7\n1|F|7|8\n3|B\n4|P|8|7\n5|U|7|8\nbad\n');
    await dispatched(maze, 5);
    await maze.service.mirror!.drain();
    const events = await maze.hub.read('maze');
    expect(events.map((e) => [e.seq, e.type, e.subject, e.contentType, Buffer.from(e.data).toString()])).toEqual([
      [1, 'follow', '7', 'text/plain', '1|F|7|8'],
      [2, 'status', '7', 'text/plain', '2|S|7'],
      [3, 'broadcast', undefined, 'text/plain', '3|B'],
      [4, 'private', '8', 'text/plain', '4|P|8|7'],
      [5, 'unfollow', '7', 'text/plain', '5|U|7|8'],
    ]);
    expect(maze.service.mirror!.appended).toBe(5);
  });
});

describe('in herald serve', () => {
  it('runs by default next to the HTTP API, and followermaze.enabled: false turns it off', async () => {
    const base = { store: { type: 'memory' as const }, http: { port: 0 }, eventbus: { port: 0 }, eventpiper: { port: 0 } };
    const on = await startServer(configSchema.parse({ ...base, followermaze: { eventPort: 0, clientPort: 0 } }));
    try {
      expect(on.listeners.map((l) => l.name)).toEqual(expect.arrayContaining(['followermaze-events', 'followermaze-clients']));
      expect(on.listener('followermaze-events')!.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await on.stop();
    }
    const off = await startServer(configSchema.parse({ ...base, followermaze: { enabled: false } }));
    try {
      expect(off.listeners.map((l) => l.name)).not.toContain('followermaze-events');
    } finally {
      await off.stop();
    }
  });
});
