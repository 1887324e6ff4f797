import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Hub } from '../../core/hub.js';
import type { Listener } from '../../core/listener.js';
import type { HeraldConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { buildApp } from './app.js';
import { AccessControl } from './auth.js';
import { assertSafeBind, openAccessWarning } from './bind.js';
import { CorsPolicy } from './cors.js';
import { FastPath } from './fastpath.js';
import { HttpMetrics } from './metrics.js';
import type { WebhookService } from '../../delivery/webhooks/service.js';

export { assertSafeBind, isLoopbackHost, openAccessWarning } from './bind.js';
export { AccessControl, Principal } from './auth.js';

/** The HTTP API listener: the fastify app and the node:http server under it. */
export interface HttpListener extends Listener {
  readonly server: Server;
  readonly app: FastifyInstance;
}

export interface HttpListenerOptions {
  /**
   * Serve single-event publishes on the socket fast path (default true). Off, every
   * request goes through fastify; the tests run both ways to keep them identical.
   */
  fastPath?: boolean;
  /** Webhook subscriptions to serve under /subscriptions. */
  webhooks?: WebhookService | undefined;
  /**
   * Every listener of the server, this one included, for `GET /system`. The array may still
   * grow after this call (buildListeners fills it in), so it is read on each request.
   */
  listeners?: readonly Listener[];
}

/**
 * Builds the HTTP API listener from config. Throws `invalid_config` (before anything binds)
 * when it would listen beyond loopback with no tokens and without `http.insecure`, or when a
 * token's `tokenEnv` variable is unset.
 */
export function createHttpListener(hub: Hub, config: HeraldConfig, logger: Logger, options: HttpListenerOptions = {}): HttpListener {
  assertSafeBind(config);
  return new HttpApiListener(hub, config, logger.child({ component: 'http' }), options.fastPath ?? true, options.webhooks, options.listeners);
}

class HttpApiListener implements HttpListener {
  readonly name = 'http';
  readonly app: FastifyInstance;
  private readonly fastPath: FastPath | undefined;
  private readonly metrics: HttpMetrics;
  private bound: string | undefined;
  private open = 0;

  constructor(
    hub: Hub,
    private readonly config: HeraldConfig,
    private readonly log: Logger,
    fastPath: boolean,
    webhooks: WebhookService | undefined,
    listeners: readonly Listener[] | undefined,
  ) {
    const acl = AccessControl.fromConfig(config.auth.tokens);
    const cors = CorsPolicy.fromConfig(config.http.cors);
    const metrics = (this.metrics = new HttpMetrics(hub.metrics));
    this.fastPath = fastPath ? new FastPath(hub, config, acl, cors, metrics, log) : undefined;
    this.app = buildApp({ hub, config, log, acl, cors, metrics, serverFactory: this.fastPath?.serverFactory(), webhooks, listeners: listeners ?? [this] });
    this.app.server.on('connection', (socket) => {
      this.open++;
      socket.once('close', () => this.open--);
    });
  }

  /** Open TCP connections (keep-alive, SSE and WebSocket clients included). */
  get connections(): number {
    return this.open;
  }

  get server(): Server {
    return this.app.server;
  }

  get url(): string | undefined {
    return this.bound;
  }

  /** Requests served by the fast path (not part of HttpListener: for tests and benchmarks). */
  get fastPathRequests(): number {
    return this.fastPath?.handled ?? 0;
  }

  async start(): Promise<void> {
    const warning = openAccessWarning(this.config);
    if (warning !== undefined) this.log.warn(warning);
    const { host, port } = this.config.http;
    // Node closes connections past this at once: a flood of sockets cannot exhaust the process.
    this.app.server.maxConnections = this.config.http.maxConnections;
    await this.app.listen({ host, port });
    const address = this.app.server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.bound = `http://${shown}:${address.port}`;
  }

  /** Stops accepting, lets in-flight requests finish, closes keep-alive sockets as they idle. */
  async stop(): Promise<void> {
    this.fastPath?.stop();
    const closing = this.app.close();
    // close() reaps the sockets idle at that moment; one whose request was still in flight
    // goes idle later and would hold close() open until its keep-alive timeout.
    const reaper = setInterval(() => this.app.server.closeIdleConnections(), 20);
    try {
      await closing;
    } finally {
      clearInterval(reaper);
    }
    this.metrics.close();
    this.bound = undefined;
  }
}
