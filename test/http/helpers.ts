import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Hub } from '../../src/core/hub.js';
import { configSchema, type HeraldConfig, type HeraldConfigInput } from '../../src/config/schema.js';
import { createHttpListener, type HttpListener } from '../../src/protocols/http/index.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import type { Logger } from '../../src/observability/logger.js';
import { tempDir } from '../helpers/tmp.js';

/** A pino logger whose JSON lines land in `lines`. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

export interface Server {
  hub: Hub;
  listener: HttpListener;
  config: HeraldConfig;
  url: string;
  lines: Array<Record<string, unknown>>;
  /** fetch relative to the server. */
  request(path: string, init?: RequestInit): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

export interface StartOptions {
  store?: 'memory' | 'lmdb' | Store;
  config?: HeraldConfigInput;
  fastPath?: boolean;
}

/** A hub on a real store and the HTTP listener on 127.0.0.1, port 0. */
export async function startServer(options: StartOptions = {}): Promise<Server> {
  let cleanup = (): void => {};
  let store: Store;
  if (options.store === 'lmdb') {
    const dir = tempDir();
    cleanup = dir.cleanup;
    store = new LmdbStore({ path: dir.path });
  } else if (options.store === undefined || options.store === 'memory') {
    store = new MemoryStore();
  } else {
    store = options.store;
  }
  const hub = new Hub({ store, retentionIntervalMs: 0 });
  await hub.start();
  const input = options.config ?? {};
  const config = configSchema.parse({ ...input, http: { port: 0, ...input.http } });
  const { logger, lines } = captureLogger();
  const listener = createHttpListener(hub, config, logger, { fastPath: options.fastPath ?? true });
  await listener.start();
  const url = listener.url!;
  return {
    hub,
    listener,
    config,
    url,
    lines,
    request: (path, init) => send(url + path, init),
    async close() {
      await listener.stop();
      await hub.close();
      cleanup();
    },
  };
}

export async function send(url: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** POST helper: body as string/bytes, headers as given. */
export function post(server: Server, path: string, body: string | Uint8Array | undefined, headers: Record<string, string> = {}): Promise<Reply> {
  return server.request(path, { method: 'POST', body: body as BodyInit | undefined, headers });
}

/** The stream infos and their events, to compare the store before and after a request. */
export async function snapshot(hub: Hub): Promise<string> {
  const streams = await hub.listStreams();
  const events = await Promise.all(streams.map((s) => hub.read(s.name, { limit: 100_000 })));
  return JSON.stringify({ streams, events: events.map((list) => list.map((e) => [e.seq, e.id, Buffer.from(e.data).toString('base64')])) });
}

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
