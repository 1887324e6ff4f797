import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Hub } from '../../core/hub.js';
import type { Listener } from '../../core/listener.js';
import type { HeraldConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { ClientCredentials } from './auth.js';
import { EventBusMetrics } from './metrics.js';
import { streamUuid } from './names.js';
import { Operations } from './operations.js';
import { DECODE_OPERATION, failure } from './replies.js';
import { Router } from './router.js';
import { Session } from './session.js';
import { StatusBook } from './statuses.js';

/** How long stop() lets connections finish their requests before closing them hard. */
const DRAIN_MS = 5000;

/**
 * The event-bus TCP listener (compat.md §3, docs/eventbus.md): newline-delimited JSON requests,
 * one reply line each, in order. Each connection is a Session; this class owns the socket
 * server, the connection limit and the shutdown.
 */
export class EventBusListener implements Listener {
  readonly name = 'eventbus';
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  private readonly router: Router;
  private readonly ops: Operations;
  private readonly metrics: EventBusMetrics;
  private readonly credentials: ClientCredentials;
  private bound: string | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly config: HeraldConfig,
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.credentials = ClientCredentials.fromConfig(config.eventbus.clients, env);
    this.metrics = EventBusMetrics.for(hub.metrics.registry);
    this.ops = new Operations(hub, config.eventbus, config.retention.default, new StatusBook(hub.store), log);
    this.router = new Router(this.ops, this.credentials, this.metrics);
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  get url(): string | undefined {
    return this.bound;
  }

  /** Open connections (for tests). */
  get connections(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    if (this.credentials.empty) {
      this.log.warn('no event-bus clients configured (eventbus.clients): every operation but health and exit is refused');
    }
    const { host, port } = this.config.eventbus;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log.error({ err }, 'event-bus listener error'));
    const address = this.server.address() as AddressInfo;
    this.bound = `tcp://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    void this.sweep();
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const draining = Promise.all([...this.sessions].map((s) => s.shutdown()));
    const timer = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, DRAIN_MS);
    await draining;
    clearTimeout(timer);
    await closed;
    this.metrics.flush();
    this.bound = undefined;
  }

  private accept(socket: Socket): void {
    const { eventbus } = this.config;
    if (this.sessions.size >= eventbus.maxConnections) {
      this.metrics.connectionsTotal.inc({ outcome: 'refused' });
      socket.on('error', () => socket.destroy());
      socket.end(failure(DECODE_OPERATION, `too many connections (eventbus.maxConnections is ${eventbus.maxConnections}); try again later`));
      socket.resume(); // read (and drop) until the client's end, so the socket closes
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const session = new Session(socket, this.router, this.ops, eventbus, this.log);
    this.sessions.add(session);
    this.metrics.connectionsTotal.inc({ outcome: 'accepted' });
    this.metrics.connections.inc();
    void session.closed.then(() => {
      this.sessions.delete(session);
      this.metrics.connections.dec();
    });
  }

  /** Drops the stored statuses of streams deleted while no event-bus listener watched. */
  private async sweep(): Promise<void> {
    try {
      await this.ops.book.sweep(async () => new Set((await this.hub.listStreams()).map((s) => streamUuid(s.name, s.created))));
    } catch (err) {
      this.log.warn({ err }, 'event-bus status sweep failed');
    }
  }
}

/** Builds the event-bus listener from config. Throws `invalid_config` when a client's `client_secret_env` is unset. */
export function createEventBusListener(hub: Hub, config: HeraldConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): EventBusListener {
  return new EventBusListener(hub, config, logger.child({ component: 'eventbus' }), env);
}
