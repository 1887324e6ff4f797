import { afterEach, describe, expect, it } from 'vitest';
import { clients, dispatched, settle, source, startMaze, waitUntil, type RunningMaze } from './helpers.js';

/** The rules of compat.md §2 over real sockets, byte for byte. */

let maze: RunningMaze | undefined;
afterEach(async () => {
  await maze?.stop();
  maze = undefined;
});

describe('notification rules', () => {
  it('follow, unfollow, broadcast, private and status update reach exactly whom they should, CRLF-terminated', async () => {
    maze = await startMaze();
    const [u1, u2, u3] = await clients(maze, [1, 2, 3]);
    const src = await source(maze.eventPort);
    src.write(
      [
        '1|F|1|2', // 1 follows 2: only 2 is told
        '2|S|2', // 2's status: its followers (1)
        '3|F|3|2', // 3 follows 2: 2 is told
        '4|U|1|2', // 1 unfollows 2: nobody is told
        '5|S|2', // 2's status: now only 3
        '6|P|3|1', // private 3 → 1: only 1
        '7|B', // everyone
        '8|P|1|42', // to an absent user: dropped
        '9|F|1|42', // 1 follows absent 42: the graph still changes
        '10|S|1', // 1 has no followers: nobody
      ].join('\n') + '\n',
    );
    await dispatched(maze, 10);
    await settle();
    expect(u1!.received()).toBe('2|S|2\r\n6|P|3|1\r\n7|B\r\n');
    expect(u2!.received()).toBe('1|F|1|2\r\n3|F|3|2\r\n7|B\r\n');
    expect(u3!.received()).toBe('5|S|2\r\n7|B\r\n');
    // 42 connects later: the follow made while it was away counts (1 follows 42, so 42's
    // status reaches 1), and only events dispatched after it registered reach it.
    const [u42] = await clients(maze, [42]);
    src.write('11|S|42\n12|S|1\n13|F|42|1\n');
    await dispatched(maze, 13);
    await settle();
    expect(u42!.received()).toBe('');
    expect(u1!.received()).toBe('2|S|2\r\n6|P|3|1\r\n7|B\r\n11|S|42\r\n13|F|42|1\r\n');
    src.write('14|S|1\n');
    await u42!.lines(1);
    expect(u42!.received()).toBe('14|S|1\r\n');
    const s = maze.maze.stats();
    expect(s).toMatchObject({ dispatched: 14, nextSeq: 15, clients: 4, malformed: 0, notifications: 11 });
  });

  it('dispatches strictly in sequence order from 1, whatever the arrival order', async () => {
    maze = await startMaze();
    const [u] = await clients(maze, [5]);
    const src = await source(maze.eventPort);
    src.write('4|B\n2|B\n3|B\n');
    await settle();
    expect(u!.received()).toBe('');
    expect(maze.maze.stats().waiting).toBe(3);
    src.write('1|B\n');
    expect(await u!.lines(4)).toEqual(['1|B\r\n', '2|B\r\n', '3|B\r\n', '4|B\r\n']);
  });

  it('forwards the line exactly as received (minus its ending), with LF, CRLF or stray CRs', async () => {
    maze = await startMaze();
    const [u] = await clients(maze, [7]);
    const src = await source(maze.eventPort);
    src.write('1|P|0009|+7\r\n\r2|P|9|007\r\r\n3|B\n');
    expect(await u!.lines(3)).toEqual(['1|P|0009|+7\r\n', '2|P|9|007\r\n', '3|B\r\n']);
  });

  it('drops malformed lines (logged, rate-limited, counted); one for the next seq stalls delivery until a valid line comes', async () => {
    maze = await startMaze({ logIntervalMs: 60_000 });
    const [u] = await clients(maze, [1]);
    const src = await source(maze.eventPort);
    src.write('1|B\n2|X|1|1\n3|B\n|B\n\n2|B|7\n');
    await u!.lines(1);
    await settle();
    expect(u!.received()).toBe('1|B\r\n');
    expect(maze.maze.stats()).toMatchObject({ malformed: 4, waiting: 1, nextSeq: 2 });
    src.write('2|B\n');
    expect(await u!.lines(3)).toEqual(['1|B\r\n', '2|B\r\n', '3|B\r\n']);
    const warnings = maze.logs.filter((l) => String(l.msg).startsWith('Error while parsing the event message'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: '2|X|1|1', reason: 'invalid event type' });
  });

  it('drops events already dispatched and events beyond the reorder window', async () => {
    maze = await startMaze({ reorderWindow: 100 });
    const [u] = await clients(maze, [1]);
    const src = await source(maze.eventPort);
    src.write('1|B\n1|B\n0|B\n101|B\n102|B\n');
    await dispatched(maze, 1);
    await waitUntil(() => maze!.maze.stats().tooFar === 1);
    expect(maze.maze.stats()).toMatchObject({ stale: 2, tooFar: 1, waiting: 1 });
    await settle();
    expect(u!.received()).toBe('1|B\r\n');
  });

  it('drops lines over maxLineBytes without buffering them, and carries on', async () => {
    maze = await startMaze({ maxLineBytes: 32 });
    const [u] = await clients(maze, [1]);
    const src = await source(maze.eventPort);
    src.write(`1|B\n${'0'.repeat(31)}2|B\n`);
    src.write(`${'x'.repeat(5000)}`);
    src.write(`${'x'.repeat(5000)}\n0000000000000000000000000002|B\n`);
    expect(await u!.lines(2)).toEqual(['1|B\r\n', '0000000000000000000000000002|B\r\n']);
    expect(maze.maze.stats().malformed).toBe(2);
  });
});

describe('clients', () => {
  it('a second connection with the same id replaces the first, which stays open and receives nothing', async () => {
    maze = await startMaze();
    const [first] = await clients(maze, [9]);
    const [second] = await clients(maze, [9]);
    const src = await source(maze.eventPort);
    src.write('1|B\n2|P|1|9\n');
    expect(await second!.lines(2)).toEqual(['1|B\r\n', '2|P|1|9\r\n']);
    await settle();
    expect(first!.received()).toBe('');
    expect(first!.socket.destroyed).toBe(false);
    expect(maze.maze.stats().clients).toBe(1);
    // The replaced one closing does not unregister its successor.
    first!.socket.destroy();
    await settle();
    src.write('3|P|1|9\n');
    expect(await second!.lines(3)).toContain('3|P|1|9\r\n');
  });

  it('reads only the id line (CRLF or LF), ignores what follows, and keeps a half-closed client', async () => {
    maze = await startMaze();
    const [a, b] = await clients(maze, [1, 2], '\r\n');
    b!.socket.write('garbage\nmore|B\n');
    b!.socket.end(); // it only reads from now on
    const src = await source(maze.eventPort);
    src.write('1|B\n');
    expect(await a!.lines(1)).toEqual(['1|B\r\n']);
    expect(await b!.lines(1)).toEqual(['1|B\r\n']);
  });

  it('closes a connection whose id is not an integer, too long, or never sent', async () => {
    maze = await startMaze({ maxLineBytes: 20, registrationTimeoutMs: 200 });
    const { client } = await import('./helpers.js');
    const bad = await client(maze.clientPort, ' 12\n');
    const long = await client(maze.clientPort, '1'.repeat(30));
    const silent = await client(maze.clientPort, undefined);
    await Promise.all([bad.closed, long.closed, silent.closed]);
    expect(maze.maze.stats().registrations).toBe(0);
  });

  it('forgets a client that disconnects (noticed when writing to it fails; it may have only half-closed)', async () => {
    maze = await startMaze();
    const [a, b] = await clients(maze, [1, 2]);
    a!.socket.destroy();
    const src = await source(maze.eventPort);
    let seq = 0;
    while (maze.maze.stats().clients !== 1) {
      src.write(`${++seq}|P|2|1\n`);
      await settle(10);
      expect(seq).toBeLessThan(300);
    }
    src.write(`${++seq}|B\n`);
    expect(await b!.lines(1)).toEqual([`${seq}|B\r\n`]);
    expect(maze.maze.stats().clients).toBe(1);
  });

  it('refuses connections beyond maxClients and maxSources', async () => {
    maze = await startMaze({ maxClients: 2, maxSources: 1 });
    await clients(maze, [1, 2]);
    const { client } = await import('./helpers.js');
    const third = await client(maze.clientPort, '3\n');
    await third.closed;
    await source(maze.eventPort);
    const second = await source(maze.eventPort);
    await new Promise((r) => second.once('close', r));
    expect(maze.maze.stats()).toMatchObject({ clients: 2, sources: 1 });
    // What the dashboard's listener table shows: the refused ones are not counted.
    await waitUntil(() => maze!.clients.connections === 2 && maze!.events.connections === 1, 5000, 'the connection counts');
  });
});

describe('sources', () => {
  it('several sources feed one sequencer; state survives a source reconnecting', async () => {
    maze = await startMaze();
    const [u1, u2] = await clients(maze, [1, 2]);
    const a = await source(maze.eventPort);
    const b = await source(maze.eventPort);
    a.write('2|S|2\n');
    b.write('1|F|1|2\n');
    expect(await u2!.lines(1)).toEqual(['1|F|1|2\r\n']);
    expect(await u1!.lines(1)).toEqual(['2|S|2\r\n']);
    a.end();
    b.end();
    await waitUntil(() => maze!.maze.stats().sources === 0);
    const c = await source(maze.eventPort);
    c.write('3|S|2\n');
    expect(await u1!.lines(2)).toEqual(['2|S|2\r\n', '3|S|2\r\n']);
    expect(maze.logs.some((l) => l.msg === 'End of messages from event source')).toBe(true);
  });

  it('drops the partial last line of a source that disconnects mid-line', async () => {
    maze = await startMaze();
    const a = await source(maze.eventPort);
    a.end('1|B\n2|');
    await waitUntil(() => maze!.maze.stats().malformed === 1);
    expect(maze.maze.sequencer.next).toBe(2);
  });
});

describe('backpressure', () => {
  it('pauses the sources for a client that stops reading, and disconnects it after clientStallTimeoutMs', async () => {
    maze = await startMaze({ clientBufferBytes: 65_536, clientStallTimeoutMs: 400, maxLineBytes: 1024 });
    const [reader, stuck] = await clients(maze, [1, 2]);
    stuck!.socket.pause(); // reads nothing from now on
    const src = await source(maze.eventPort);
    // ~1 KB broadcasts (zero-padded seqs are valid), 16 MB in all: more than the kernel buffers hold.
    const count = 16_000;
    const pad = (seq: number): string => String(seq).padStart(1000, '0');
    let sawPause = false;
    const watch = setInterval(() => (sawPause ||= maze!.maze.gate.closed), 2);
    for (let seq = 1; seq <= count; seq += 1000) {
      const lines: string[] = [];
      for (let s = seq; s < seq + 1000; s++) lines.push(`${pad(s)}|B\n`);
      if (!src.write(lines.join(''))) await new Promise((r) => src.once('drain', r));
    }
    await waitUntil(() => maze!.maze.stats().stalledClients === 1, 15_000, 'the stuck client to be dropped');
    await dispatched(maze, count);
    clearInterval(watch);
    expect(sawPause).toBe(true);
    await waitUntil(() => (reader!.received().match(/\n/g)?.length ?? 0) === count, 15_000, 'the reader to get every broadcast');
    expect(maze.maze.stats().clients).toBe(1);
    expect(maze.maze.gate.closed).toBe(false);
  }, 30_000);
});

describe('metrics', () => {
  it('exposes the maze state on the hub registry', async () => {
    maze = await startMaze();
    await clients(maze, [1]);
    const src = await source(maze.eventPort);
    src.write('1|B\n3|B\nbad\n');
    await waitUntil(() => maze!.maze.stats().malformed === 1);
    const text = await maze.hub.metrics.registry.metrics();
    const value = (name: string): number => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
    expect(value('herald_followermaze_next_seq')).toBe(2);
    expect(value('herald_followermaze_events_waiting')).toBe(1);
    expect(value('herald_followermaze_clients_connected')).toBe(1);
    expect(value('herald_followermaze_sources_connected')).toBe(1);
    expect(value('herald_followermaze_notifications_total')).toBe(1);
    expect(value('herald_followermaze_malformed_lines_total')).toBe(1);
    expect(value('herald_followermaze_events_dispatched_total')).toBe(1);
  });
});
