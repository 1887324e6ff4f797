import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Hub } from '../../src/core/hub.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createHttpListener, type HttpListener } from '../../src/protocols/http/index.js';
import { silentLogger } from '../../src/observability/logger.js';

/** Connection and time limits, on a real socket. */
describe('HTTP connection limits', () => {
  let hub: Hub;
  let listener: HttpListener;
  const sockets: Socket[] = [];

  async function start(http: Record<string, number>): Promise<URL> {
    hub = new Hub({ store: new MemoryStore(), retentionIntervalMs: 0 });
    await hub.start();
    listener = createHttpListener(hub, configSchema.parse({ store: { type: 'memory' }, http: { port: 0, ...http } }), silentLogger());
    await listener.start();
    return new URL(listener.url!);
  }

  function open(url: URL): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
      socket.on('error', reject);
      sockets.push(socket);
    });
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await listener.stop();
    await hub.close();
  });

  it('closes connections past http.maxConnections at once, and serves again when below', async () => {
    const url = await start({ maxConnections: 2 });
    await open(url);
    await open(url);
    const third = await open(url);
    const closed = await new Promise<boolean>((resolve) => {
      third.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    expect(closed).toBe(true);
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(new URL('/health', url))).status).toBe(200);
  });

  it('answers 408 to a request whose body does not arrive within http.requestTimeoutMs', async () => {
    const url = await start({ requestTimeoutMs: 300 });
    const socket = await open(url);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.write('POST /streams/slow/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nabc');
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(await hub.getStream('slow')).toBeUndefined();
  });
});
