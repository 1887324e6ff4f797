import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type Server } from './helpers.js';

/**
 * The socket fast path on real connections: the wire behaviour node:http would have, kept by
 * src/protocols/http/fastConnection.ts (answers in request order, hand-over to node at the
 * first request it does not take, Connection: close, half-close, timeouts, backpressure, stop).
 */

interface Answer {
  head: string;
  status: number;
  body: string;
}

/** A client socket that parses the answers it reads (every answer here has a Content-Length). */
class RawClient {
  readonly socket: Socket;
  readonly answers: Answer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = this.buf.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buf.length < end + 4 + length) break;
        this.answers.push({ head, status: Number(head.slice(9, 12)), body: this.buf.toString('utf8', end + 4, end + 4 + length) });
        this.buf = this.buf.subarray(end + 4 + length);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawClient(socket)));
    });
  }

  /** Resolves once `n` answers have arrived (or the socket closed, to fail the caller's check). */
  async until(n: number): Promise<Answer[]> {
    while (this.answers.length < n && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    return this.answers;
  }

  async untilClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function publish(stream: string, body: string, extra = ''): string {
  return `POST /streams/${stream}/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seqOf = (a: Answer): number => (JSON.parse(a.body) as { seq: number }).seq;

let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('socket fast path', () => {
  it('answers pipelined publishes in request order, an error in its place', async () => {
    server = await startServer({ store: 'lmdb' });
    const c = await RawClient.open(server.url);
    // The bad one is answered at once, the others after their commit: order must still hold.
    c.socket.write(publish('p', '{"n":1}') + publish('p', '{"n":') + publish('p', '{"n":3}') + publish('p', '{"n":4}'));
    const answers = await c.until(4);
    expect(answers.map((a) => a.status)).toEqual([201, 400, 201, 201]);
    expect([seqOf(answers[0]!), seqOf(answers[2]!), seqOf(answers[3]!)]).toEqual([1, 2, 3]);
    expect(answers[1]!.body).toContain('invalid_json');
    expect((server.listener as unknown as { fastPathRequests: number }).fastPathRequests).toBe(4);
    c.socket.destroy();
  });

  it('hands the connection to node:http at the first other request, keeping the order', async () => {
    server = await startServer();
    const c = await RawClient.open(server.url);
    const onFastPath = () => (server!.listener as unknown as { fastPath: { connections: Set<unknown> } }).fastPath.connections.size;
    c.socket.write(publish('h', '{"n":0}'));
    await c.until(1);
    expect(onFastPath()).toBe(1);
    c.socket.write(publish('h', '{"n":1}') + 'GET /streams/h HTTP/1.1\r\nHost: t\r\n\r\n' + publish('h', '{"n":2}') + 'GET /health HTTP/1.1\r\nHost: t\r\n\r\n');
    const answers = (await c.until(5)).slice(1);
    expect(onFastPath()).toBe(0); // node:http has it now
    expect(answers.map((a) => a.status)).toEqual([201, 200, 201, 200]);
    // The GET was answered after the first publish was stored, and before the second.
    expect((JSON.parse(answers[1]!.body) as { count: number }).count).toBe(2);
    expect(seqOf(answers[2]!)).toBe(3);
    c.socket.destroy();
  });

  it('takes a request split anywhere across reads', async () => {
    server = await startServer();
    const raw = Buffer.from(publish('s', JSON.stringify({ text: 'é'.repeat(20) })));
    for (const at of [1, 10, 30, raw.indexOf('\r\n\r\n') + 2, raw.indexOf('\r\n\r\n') + 4, raw.length - 1]) {
      const c = await RawClient.open(server.url);
      c.socket.setNoDelay(true);
      c.socket.write(raw.subarray(0, at));
      await sleep(15);
      c.socket.write(raw.subarray(at));
      expect((await c.until(1))[0]!.status).toBe(201);
      c.socket.destroy();
    }
    const events = await server.hub.read('s');
    expect(events.map((e) => Buffer.from(e.data).toString())).toEqual(Array(6).fill(JSON.stringify({ text: 'é'.repeat(20) })));
  });

  it('takes a body of many reads (512 KiB)', async () => {
    server = await startServer();
    const body = JSON.stringify({ blob: 'x'.repeat(512 * 1024) });
    const c = await RawClient.open(server.url);
    c.socket.write(publish('big', body));
    expect((await c.until(1))[0]!.status).toBe(201);
    expect(Buffer.from((await server.hub.read('big'))[0]!.data).toString()).toBe(body);
    c.socket.destroy();
  });

  it('answers Connection: close with Connection: close and closes', async () => {
    server = await startServer();
    const c = await RawClient.open(server.url);
    c.socket.write(publish('c', '1', 'Connection: close\r\n') + publish('c', '2'));
    await c.untilClosed();
    expect(c.answers).toHaveLength(1); // what follows a close is not read, as node does
    expect(c.answers[0]!.head).toMatch(/\r\nConnection: close$/);
    expect((await server.hub.read('c')).length).toBe(1);
  });

  it('answers everything sent before the client ended its side, then closes', async () => {
    server = await startServer({ store: 'lmdb' });
    const c = await RawClient.open(server.url);
    c.socket.end(publish('e', '1') + publish('e', '2') + publish('e', '3'));
    await c.untilClosed();
    expect(c.answers.map((a) => a.status)).toEqual([201, 201, 201]);
    // The last answer says `Connection: close` only when the end was read before it was
    // rendered (an inline commit can answer first); either way the server closes after it.
  });

  it('gives a request still incomplete after a second to node:http, which serves it', async () => {
    server = await startServer();
    const raw = publish('slow', '{"slow":true}');
    const c = await RawClient.open(server.url);
    c.socket.write(raw.slice(0, -4));
    await sleep(1_300);
    expect((server.listener as unknown as { fastPathRequests: number }).fastPathRequests).toBe(0);
    c.socket.write(raw.slice(-4));
    expect((await c.until(1))[0]!.status).toBe(201);
    c.socket.destroy();
  });

  it('closes a connection idle past the keep-alive timeout', async () => {
    server = await startServer({ config: { http: { keepAliveTimeoutMs: 300 } } });
    const c = await RawClient.open(server.url);
    c.socket.write(publish('k', '1'));
    const [answer] = await c.until(1);
    expect(answer!.head).toContain('Keep-Alive: timeout=0');
    const started = Date.now();
    await c.untilClosed();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('reads no more while 64 answers are pending or the client does not read, and loses nothing', async () => {
    server = await startServer({ store: 'lmdb' });
    const c = await RawClient.open(server.url);
    c.socket.pause(); // the client reads nothing for now
    let all = '';
    for (let i = 1; i <= 600; i++) all += publish('bp', String(i));
    c.socket.write(all);
    await sleep(300);
    c.socket.resume();
    const answers = await c.until(600);
    expect(answers.map(seqOf)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    c.socket.destroy();
  });

  it('lets a publish in flight finish when the listener stops, answering with Connection: close', async () => {
    server = await startServer();
    const store = server.hub.store;
    const append = store.append.bind(store);
    store.append = async (...args) => {
      await sleep(200);
      return append(...args);
    };
    const c = await RawClient.open(server.url);
    const idle = await RawClient.open(server.url);
    c.socket.write(publish('st', '1'));
    await sleep(50);
    await server.listener.stop();
    const [answer] = await c.until(1);
    expect(answer!.status).toBe(201);
    expect(answer!.head).toMatch(/\r\nConnection: close$/);
    await c.untilClosed();
    await idle.untilClosed(); // an idle connection is closed, as node does
    await server.hub.close();
    server = undefined;
  });
});
