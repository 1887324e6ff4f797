import { createServer, type Server } from 'node:http';
import { WebSocket } from 'ws';
import { serve, stopServe, type Served } from '../cli/helpers.js';
import type { TestPostgres } from '../helpers/postgres.js';

/**
 * A cluster of `herald serve` processes on one PostgreSQL, with the pieces a scale-out test is
 * made of: publishers that retry until acknowledged, consumers that check order as they read,
 * and the checks run at the end. A new way to consume (webhooks, event-bus) is one more
 * `Consumer`; the checks apply to every consumer alike.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Cluster {
  private readonly nodes: Array<Served | undefined> = [];

  constructor(
    private readonly pg: TestPostgres,
    private readonly schema: string,
    private readonly env: Record<string, string> = {},
  ) {}

  /** Starts (or restarts) node `i`; resolves once its HTTP listener is up. */
  async start(i: number): Promise<Served> {
    const served = await serve(['--port', '0'], {
      HERALD_STORE_TYPE: 'postgres',
      HERALD_STORE_URL: this.pg.url,
      HERALD_STORE_SCHEMA: this.schema,
      HERALD_STORE_RECONNECT_INTERVAL_MS: '200',
      HERALD_STORE_MAX_CONNECTIONS: '4',
      HERALD_LOG_LEVEL: 'info',
      ...this.env,
    });
    this.nodes[i] = served;
    return served;
  }

  /** The node's base URL, or undefined while it is down. */
  url(i: number): string | undefined {
    const node = this.nodes[i];
    return node && node.child.exitCode === null && node.child.signalCode === null ? node.url : undefined;
  }

  /** The URL another listener of node `i` logged (`eventbus`, `eventpiper`), or undefined while it is down. */
  listenerUrl(i: number, listener: string): string | undefined {
    if (this.url(i) === undefined) return undefined;
    const line = this.nodes[i]!.logs.find((l) => l.listener === listener && typeof l.url === 'string');
    return line?.url as string | undefined;
  }

  get size(): number {
    return this.nodes.length;
  }

  /** How each node stands, for a failure message: running, or how it ended and what it last said. */
  describe(): string {
    return this.nodes
      .map((node, i) => {
        if (!node) return `node ${i}: never started`;
        const { exitCode, signalCode } = node.child;
        if (exitCode === null && signalCode === null) return `node ${i}: running`;
        const last = node.logs.slice(-3).map((l) => JSON.stringify(l)).join(' | ');
        return `node ${i}: ended (${signalCode ?? `exit ${exitCode}`}); last logs: ${last}; stderr: ${node.stderr().slice(-500)}`;
      })
      .join('\n');
  }

  node(i: number): Served | undefined {
    return this.nodes[i];
  }

  /** SIGKILL: no shutdown, no flush; whatever was in flight is lost unacknowledged. */
  async kill(i: number): Promise<void> {
    const node = this.nodes[i];
    if (!node) return;
    node.child.kill('SIGKILL');
    await node.exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => stopServe(n)));
  }
}

/** An event a publisher got a 2xx for. */
export interface Acked {
  id: string;
  stream: string;
  seq: number;
  payload: string;
}

export interface PublisherStats {
  acked: Acked[];
  /** Every id ever sent (acknowledged or not): a stored id must be one of these. */
  attempted: Set<string>;
  /** Answers that were not 2xx, by status (0: no answer, e.g. the node was killed). */
  failures: Map<number, number>;
}

/**
 * Publishes to `stream` through node `home`, one event at a time, each with its own
 * Idempotency-Key, retrying the same key until some node acknowledges it (the home node, or the
 * next live one while home is down). So retries never store an event twice.
 */
export async function publishLoop(cluster: Cluster, home: number, stream: string, signal: AbortSignal, stats: PublisherStats): Promise<void> {
  for (let k = 0; !signal.aborted; k++) {
    const id = `${stream}.n${home}.${k}`;
    const payload = JSON.stringify({ id, home, k });
    stats.attempted.add(id);
    for (let attempt = 0; ; attempt++) {
      const target = cluster.url(home) ?? cluster.url((home + 1 + attempt) % cluster.size);
      let status = 0;
      if (target) {
        try {
          const res = await fetch(`${target}/streams/${stream}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': id },
            body: payload,
            signal: AbortSignal.timeout(5000),
          });
          status = res.status;
          const body = (await res.json()) as { seq?: number };
          if (res.ok && typeof body.seq === 'number') {
            stats.acked.push({ id, stream, seq: body.seq, payload });
            break;
          }
        } catch {
          status = 0;
        }
      }
      stats.failures.set(status, (stats.failures.get(status) ?? 0) + 1);
      if (signal.aborted && attempt > 200) return; // give up only on a cluster that stays down
      await sleep(50);
    }
  }
}

/** One reader of one stream through one node; it records what it saw and any order violation. */
export interface Consumer {
  readonly name: string;
  readonly stream: string;
  /** Seqs in the order received. */
  readonly seqs: number[];
  /** Payload text by seq. */
  readonly payloads: Map<number, string>;
  /** Order violations seen (a seq other than last + 1; for at-least-once consumers, a seq beyond last + 1). */
  readonly violations: string[];
  /** Deliveries of a seq already received (at-least-once consumers only). */
  readonly redeliveries: number;
  run(signal: AbortSignal): Promise<void>;
}

export abstract class BaseConsumer implements Consumer {
  readonly seqs: number[] = [];
  readonly payloads = new Map<number, string>();
  readonly violations: string[] = [];
  redeliveries = 0;
  /** At-least-once consumers may see a seq again (after a crash or failover), never one skipped. */
  protected readonly atLeastOnce: boolean = false;
  constructor(
    readonly name: string,
    readonly stream: string,
    protected readonly cluster: Cluster,
    protected readonly node: number,
  ) {}
  protected get last(): number {
    return this.seqs.at(-1) ?? 0;
  }
  protected receive(seq: number, payload: string): void {
    if (this.atLeastOnce && seq <= this.last) {
      this.redeliveries++;
      if (this.payloads.get(seq) !== payload) this.violations.push(`${this.name}: seq ${seq} delivered again with another payload`);
      return;
    }
    if (seq !== this.last + 1) this.violations.push(`${this.name}: got seq ${seq} after ${this.last}`);
    this.seqs.push(seq);
    this.payloads.set(seq, payload);
  }
  abstract run(signal: AbortSignal): Promise<void>;
}

/** Pages through `GET /streams/:s/events?after=` on its node, polling every 20 ms. */
export class PollingConsumer extends BaseConsumer {
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const base = this.cluster.url(this.node);
      let got = 0;
      if (base) {
        try {
          const res = await fetch(`${base}/streams/${this.stream}/events?after=${this.last}&limit=500`, { signal: AbortSignal.timeout(5000) });
          if (res.ok) {
            const page = (await res.json()) as { events: Array<{ seq: number; data: unknown }> };
            for (const e of page.events) this.receive(e.seq, JSON.stringify(e.data));
            got = page.events.length;
          } else {
            await res.body?.cancel();
          }
        } catch {
          // node down or database down: try again
        }
      }
      if (got === 0) await sleep(20);
    }
  }
}

/** Follows `GET /streams/:s/sse` on its node; reconnects after the last seq it saw. */
export class SseConsumer extends BaseConsumer {
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const base = this.cluster.url(this.node);
      if (base) {
        try {
          const res = await fetch(`${base}/streams/${this.stream}/sse?after=${this.last}`, { signal });
          if (res.ok && res.body) await this.readFrames(res.body);
          else await res.body?.cancel();
        } catch {
          // disconnected: reconnect from the last seq seen
        }
      }
      if (!signal.aborted) await sleep(50);
    }
  }

  private async readFrames(body: ReadableStream<Uint8Array>): Promise<void> {
    for await (const { id, data } of sseFrames(body)) {
      if (id !== undefined && data.length > 0 && /^\d+$/.test(id)) this.receive(Number(id), data.join('\n'));
    }
  }
}

/** The frames of a Server-Sent Events body as they arrive: each one's `id` and `data` lines. */
export async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id: string | undefined; data: string[] }> {
  const decoder = new TextDecoder();
  let buffered = '';
  let id: string | undefined;
  let data: string[] = [];
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      if (line === '') {
        yield { id, data };
        id = undefined;
        data = [];
      } else if (line.startsWith('id:')) {
        id = line.slice(3).trim();
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
  }
}

/**
 * Follows `/streams/:s/ws` on its node (the `ws` package, as a Node client would); reconnects
 * after the last seq it saw. A gap message is a violation: nothing here is lost on purpose.
 */
export class WsConsumer extends BaseConsumer {
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const base = this.cluster.url(this.node);
      if (base) await this.follow(`${base.replace(/^http/, 'ws')}/streams/${this.stream}/ws?after=${this.last}`, signal);
      if (!signal.aborted) await sleep(50);
    }
  }

  /** One connection, until it closes (the node died, the database went away) or the test ends. */
  private follow(url: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      const stop = (): void => ws.terminate();
      signal.addEventListener('abort', stop, { once: true });
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { seq?: number; data?: unknown; control?: string };
        if (message.control === 'gap') this.violations.push(`${this.name}: gap ${data.toString()}`);
        else if (typeof message.seq === 'number') this.receive(message.seq, JSON.stringify(message.data));
      });
      ws.on('error', () => undefined); // followed by close
      ws.on('close', () => {
        signal.removeEventListener('abort', stop);
        resolve();
      });
    });
  }
}

/**
 * A webhook endpoint: a local HTTP server answering 200, subscribed to the stream from its
 * earliest event. One node at a time drives the lane (a lease); when it dies another takes
 * over, so events may come again but never out of order.
 */
export class WebhookConsumer extends BaseConsumer {
  protected override readonly atLeastOnce = true;
  private server: Server | undefined;

  /** Starts the endpoint and subscribes it through node `via`. */
  async subscribe(via: number): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.receive(Number(req.headers['herald-seq']), Buffer.concat(chunks).toString());
        res.writeHead(200).end();
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
    const res = await fetch(`${this.cluster.url(via)}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: this.stream, url, start: 'earliest' }) });
    if (res.status !== 201) throw new Error(`subscribing ${this.name}: ${res.status} ${await res.text()}`);
  }

  async run(signal: AbortSignal): Promise<void> {
    await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/** Every event of a stream as stored, read through one node. */
export async function readAll(base: string, stream: string): Promise<Array<{ seq: number; id: string; data: unknown }>> {
  const out: Array<{ seq: number; id: string; data: unknown }> = [];
  for (;;) {
    const res = await fetch(`${base}/streams/${stream}/events?after=${out.at(-1)?.seq ?? 0}&limit=1000`);
    if (!res.ok) throw new Error(`reading ${stream}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { events: Array<{ seq: number; id: string; data: unknown }> };
    if (page.events.length === 0) return out;
    out.push(...page.events);
  }
}

/** Polls until `predicate` holds. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The HTTP status of `GET /ready` on a node (0 when it does not answer). */
export async function readyStatus(base: string | undefined): Promise<number> {
  if (!base) return 0;
  try {
    const res = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}
