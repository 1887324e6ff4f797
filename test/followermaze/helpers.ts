import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { configSchema, type HeraldConfigInput } from '../../src/config/schema.js';
import { Hub } from '../../src/core/hub.js';
import { createFollowerMazeListeners, type FollowerMazeListeners } from '../../src/protocols/followermaze/index.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';

export type MazeOverrides = NonNullable<HeraldConfigInput['followermaze']>;

export interface RunningMaze extends FollowerMazeListeners {
  hub: Hub;
  eventPort: number;
  clientPort: number;
  /** Log lines written so far (parsed pino JSON). */
  logs: Array<Record<string, unknown>>;
  /** Stops both listeners (cleanly: the final state is saved) and closes the hub. */
  stop(): Promise<void>;
}

/** A hub (memory store, or LMDB at `lmdbPath`) with the follower-maze listeners on free ports. */
export async function startMaze(overrides: MazeOverrides = {}, lmdbPath?: string): Promise<RunningMaze> {
  const store: Store = lmdbPath !== undefined ? new LmdbStore({ path: lmdbPath }) : new MemoryStore();
  const hub = new Hub({ store, retentionIntervalMs: 0 });
  await hub.start();
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const config = configSchema.parse({ followermaze: { eventPort: 0, clientPort: 0, ...overrides } });
  const listeners = createFollowerMazeListeners(hub, config, logger);
  await listeners.events.start();
  await listeners.clients.start();
  let stopped = false;
  return {
    ...listeners,
    hub,
    eventPort: listeners.events.port!,
    clientPort: listeners.clients.port!,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([listeners.clients.stop(), listeners.events.stop()]);
      await hub.close();
    },
  };
}

/** Polls `check` until it is true (or fails after `ms`). */
export async function waitUntil(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw user client: everything it receives is kept as text. */
export interface TestClient {
  socket: Socket;
  received(): string;
  /** Resolves once the received text contains `n` line feeds. */
  lines(n: number): Promise<string[]>;
  closed: Promise<void>;
}

export async function client(port: number, registration: string | undefined): Promise<TestClient> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  if (registration !== undefined) socket.write(registration);
  return {
    socket,
    received: () => text,
    closed,
    async lines(n) {
      await waitUntil(() => (text.match(/\n/g)?.length ?? 0) >= n, 5000, `${n} lines (have ${JSON.stringify(text)})`);
      return text.split('\n').slice(0, n).map((l) => l + '\n');
    },
  };
}

/** Connects clients for these user ids and waits until the maze registered them all. */
export async function clients(maze: RunningMaze, ids: number[], ending = '\n'): Promise<TestClient[]> {
  const before = maze.maze.stats().registrations;
  const out = await Promise.all(ids.map((id) => client(maze.clientPort, `${id}${ending}`)));
  await waitUntil(() => maze.maze.stats().registrations >= before + ids.length, 5000, 'registrations');
  return out;
}

/** An event source connection. */
export async function source(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Waits until the maze dispatched up to `seq` (next expected is seq + 1). */
export function dispatched(maze: RunningMaze, seq: number): Promise<void> {
  return waitUntil(() => maze.maze.sequencer.next > seq, 5000, `event ${seq} to be dispatched (next: ${maze.maze.sequencer.next})`);
}

/** Lets the maze flush and the kernel deliver (for asserting that nothing arrived). */
export const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));
