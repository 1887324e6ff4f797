import { connect, type Socket } from 'node:net';
import { Hub } from '../../src/core/hub.js';
import { configSchema, type HeraldConfigInput } from '../../src/config/schema.js';
import { createEventBusListener, type EventBusListener } from '../../src/protocols/eventbus/index.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/types.js';
import { captureLogger } from '../http/helpers.js';
import { tempDir } from '../helpers/tmp.js';

export const CLIENT_ID = 'dope_go_client_id';
export const CLIENT_SECRET = 'dope_go_client_secret';
/** The auth member of the seed document's sample requests. */
export const AUTH = `"auth": {"client_id": "${CLIENT_ID}", "client_secret": "${CLIENT_SECRET}"}`;

export interface EbServer {
  hub: Hub;
  listener: EventBusListener;
  port: number;
  lines: Array<Record<string, unknown>>;
  /** Opens a raw connection. */
  open(): Promise<Conn>;
  /** Stops the listener and the hub (the store is closed); LMDB data stays until cleanup. */
  close(): Promise<void>;
  cleanup(): void;
}

export interface StartOptions {
  /** `{ path }`: LMDB in that directory; `{ postgres, schema }`: one node on a shared PostgreSQL. */
  store?: 'memory' | 'lmdb' | { path: string } | { postgres: string; schema: string };
  eventbus?: NonNullable<HeraldConfigInput['eventbus']>;
  env?: NodeJS.ProcessEnv;
}

/** A hub on a real store with the event-bus listener on 127.0.0.1, port 0. */
export async function startEventBus(options: StartOptions = {}): Promise<EbServer> {
  let cleanup = (): void => {};
  let store: Store;
  if (options.store === 'lmdb') {
    const dir = tempDir('herald-eb-');
    cleanup = dir.cleanup;
    store = new LmdbStore({ path: dir.path });
  } else if (typeof options.store === 'object' && 'postgres' in options.store) {
    store = new PostgresStore({ url: options.store.postgres, schema: options.store.schema, maxConnections: 4 });
  } else if (typeof options.store === 'object') {
    store = new LmdbStore({ path: options.store.path });
  } else {
    store = new MemoryStore();
  }
  const hub = new Hub({ store, retentionIntervalMs: 0 });
  await hub.start();
  const config = configSchema.parse({ eventbus: { port: 0, clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }], ...options.eventbus } });
  const { logger, lines } = captureLogger();
  const listener = createEventBusListener(hub, config, logger, options.env ?? {});
  await listener.start();
  const port = Number(listener.url!.split(':').pop());
  let closed = false;
  return {
    hub,
    listener,
    port,
    lines,
    open: () => openConn(port),
    async close() {
      if (closed) return;
      closed = true;
      await listener.stop();
      await hub.close();
    },
    cleanup,
  };
}

/** A raw connection that collects every byte the server sends. */
export class Conn {
  received = '';
  ended = false;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.received += d;
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.ended = true;
      this.wake();
      resolve();
    }));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The reply lines received so far. */
  get replies(): string[] {
    return this.received.split('\n').filter((l) => l !== '');
  }

  /** Resolves once `n` reply lines are in (or the connection closed). */
  async waitFor(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} replies, got ${this.replies.length}: ${this.received.slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.replies;
  }

  /** Sends lines and resolves with exactly their replies (as raw lines). */
  async ask(...lines: string[]): Promise<string[]> {
    const before = this.replies.length;
    this.send(lines.map((l) => `${l}\n`).join(''));
    const all = await this.waitFor(before + lines.length);
    return all.slice(before, before + lines.length);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function openConn(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new Conn(socket));
    });
  });
}

/** A request line in the seed document's style. */
export function req(operation: string, body?: string): string {
  return `{"operation": "${operation}", ${AUTH}${body !== undefined ? `, "body": ${body}` : ''}}`;
}

/** Replaces UUIDs and RFC 3339 times in reply lines, so they can be compared byte for byte. */
export function normalize(line: string): string {
  return line
    .replace(/"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"/g, '"<uuid>"')
    .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"/g, '"<time>"');
}

/** The event ids of a process/retry/get_stream_events reply. */
export function eventIds(reply: string): string[] {
  return (JSON.parse(reply) as { body: { events: Array<{ id: string }> } }).body.events.map((e) => e.id);
}
