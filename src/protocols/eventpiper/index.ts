import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Hub } from '../../core/hub.js';
import type { Listener } from '../../core/listener.js';
import type { HeraldConfig } from '../../config/schema.js';
import { LiveMetrics } from '../../delivery/liveMetrics.js';
import type { Logger } from '../../observability/logger.js';
import type { EventRow } from '../../sources/eventRow.js';
import { EventPiperMirror } from '../../sources/eventpiperMirror.js';
import { PostgresListenSource } from '../../sources/postgresListen.js';
import { EventPiperSession } from './session.js';
import { HEALTH_BODY, NOT_FOUND_TEXT, NO_CONSUMER_TEXT, consumerIdOf, eventFrame, lastEventIdOf, replayAfter } from './wire.js';

/** Live rows held per session while it replays (then it is closed and the client resumes). */
const MAX_HELD_ROWS = 10_000;

export interface EventPiperListener extends Listener {
  readonly source: PostgresListenSource;
  readonly mirror: EventPiperMirror | undefined;
  /** Open `GET /events` sessions. */
  readonly sessions: number;
}

/**
 * The EventPiper listener (compat.md §4): its own port, fed by the PostgreSQL LISTEN source.
 * Built only when `eventpiper.database` is set.
 */
export function createEventPiperListener(hub: Hub, config: HeraldConfig, logger: Logger): EventPiperListener {
  return new EventPiperServer(hub, config.eventpiper, logger.child({ component: 'eventpiper' }));
}

type Section = HeraldConfig['eventpiper'];

class EventPiperServer implements EventPiperListener {
  readonly name = 'eventpiper';
  readonly source: PostgresListenSource;
  readonly mirror: EventPiperMirror | undefined;
  private readonly server: Server;
  private readonly consumers = new Map<string, Set<EventPiperSession>>();
  private readonly metrics: LiveMetrics;
  private bound: string | undefined;
  private open = 0;

  constructor(
    hub: Hub,
    private readonly config: Section,
    private readonly log: Logger,
  ) {
    this.source = new PostgresListenSource({ url: config.database!, log, pageSize: config.replayPageSize, reconnectMaxMs: config.reconnectMaxMs });
    this.source.subscribe((row) => this.dispatch(row));
    this.mirror = config.mirror ? new EventPiperMirror(hub, this.source, config.stream, log, config.mirrorLeaseMs) : undefined;
    this.metrics = LiveMetrics.of(hub.metrics.registry);
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.maxConnections = config.maxConnections;
    this.server.on('connection', (socket: Socket) => {
      this.open++;
      socket.once('close', () => this.open--);
    });
  }

  /** Open TCP connections (sessions and other requests), for the dashboard's listener table. */
  get connections(): number {
    return this.open;
  }

  get url(): string | undefined {
    return this.bound;
  }

  get sessions(): number {
    let n = 0;
    for (const set of this.consumers.values()) n += set.size;
    return n;
  }

  async start(): Promise<void> {
    this.source.start();
    this.mirror?.start();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    this.bound = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const set of this.consumers.values()) for (const session of set) session.close(false);
    // Ended streams leave keep-alive connections that go idle a moment later; reap them as they do.
    const reaper = setInterval(() => this.server.closeIdleConnections(), 20);
    this.server.closeIdleConnections();
    try {
      await closed;
    } finally {
      clearInterval(reaper);
    }
    await this.mirror?.stop();
    await this.source.stop();
    this.bound = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/events') return this.events(req, res);
    if (req.method === 'GET' && path === '/manage/health') return reply(res, 200, HEALTH_BODY, 'application/json; charset=utf-8');
    reply(res, 404, NOT_FOUND_TEXT, 'text/plain; charset=utf-8');
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    const consumer = consumerIdOf(req);
    if (consumer === undefined) return reply(res, 401, NO_CONSUMER_TEXT, 'text/plain; charset=utf-8');
    const session = new EventPiperSession(consumer, res, {
      heartbeatMs: this.config.heartbeatMs,
      maxBufferedBytes: this.config.maxBufferedBytes,
      maxHeldRows: MAX_HELD_ROWS,
      metrics: this.metrics,
    });
    // Subscribed before the replay starts, so no live row falls between the two.
    let set = this.consumers.get(consumer);
    if (set === undefined) this.consumers.set(consumer, (set = new Set()));
    set.add(session);
    this.metrics.opened('eventpiper');
    res.on('close', () => {
      session.gone();
      this.metrics.closed('eventpiper');
      const current = this.consumers.get(consumer);
      current?.delete(session);
      if (current?.size === 0) this.consumers.delete(consumer);
    });
    session.open();
    session.replay(this.source, replayAfter(lastEventIdOf(req))).catch((err: unknown) => {
      this.log.warn({ err: String(err), consumer: consumer.slice(0, 200) }, 'EventPiper replay failed; closing the session (the client resumes with Last-Event-ID)');
      session.close(true);
    });
  }

  /** A new row goes to every session of its subscriber (exact, case-sensitive match). */
  private dispatch(row: EventRow): void {
    const set = this.consumers.get(row.subscriber);
    if (set === undefined) return;
    const frame = Buffer.from(eventFrame(row), 'utf8');
    for (const session of set) session.live(row.id, frame);
  }
}

function reply(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=0, private, must-revalidate' });
  res.end(body);
}
