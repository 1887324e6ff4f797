import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Listener } from '../../core/listener.js';
import { ClientConnection } from './client.js';
import { parseUserId } from './parser.js';
import { RateLimitedLog } from './rateLimitedLog.js';
import type { FollowerMazeService } from './service.js';
import { SourceConnection } from './sourceConnection.js';

/** A TCP server with the Listener life cycle. */
abstract class TcpListener implements Listener {
  abstract readonly name: string;
  protected server: Server | undefined;
  private bound: string | undefined;
  private open = 0;

  constructor(protected readonly service: FollowerMazeService) {}

  get url(): string | undefined {
    return this.bound;
  }

  /** Open client connections (the dashboard's listener table). */
  get connections(): number {
    return this.open;
  }

  /** The bound port (tests and the CLI), once started. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  protected async listen(port: number, maxConnections: number, allowHalfOpen: boolean): Promise<void> {
    await this.service.open();
    const server = createServer({ allowHalfOpen, noDelay: true }, (socket) => {
      this.open++;
      socket.once('close', () => this.open--);
      this.onConnection(socket);
    });
    // Node closes connections past this at once.
    server.maxConnections = maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.service.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.bound = `tcp://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  /** Stops accepting; resolves once the server has closed (after its sockets were closed). */
  protected closeServer(): Promise<void> {
    const server = this.server;
    this.bound = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  protected abstract onConnection(socket: Socket): void;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

/** The event source listener (default port 9090): any number of sources feed one sequencer. */
export class EventSourceListener extends TcpListener {
  readonly name = 'followermaze-events';

  async start(): Promise<void> {
    await this.listen(this.service.config.eventPort, this.service.config.maxSources, false);
  }

  protected onConnection(socket: Socket): void {
    const { maze, log, config } = this.service;
    const source = new SourceConnection(socket, maze, config.maxLineBytes);
    maze.gate.add(socket);
    log.info({ remote: socket.remoteAddress, sources: maze.gate.size }, 'event source connected');
    socket.on('data', source.onData);
    socket.on('error', (err) => log.warn({ err }, `Unable to read from event source, got error: ${err.message}`));
    socket.on('close', () => {
      source.finish();
      maze.gate.delete(socket);
      log.info({ sources: maze.gate.size, next: maze.sequencer.next }, 'End of messages from event source');
    });
  }

  /** Closes the sources (their state stays), then delivers what is left and saves the state. */
  async stop(): Promise<void> {
    const closed = this.closeServer();
    for (const socket of this.service.maze.gate.all()) socket.destroy();
    await closed;
    await this.service.close();
  }
}

/** How long a stopping listener lets clients take their last notifications. */
const CLIENT_CLOSE_GRACE_MS = 1000;

/** The user client listener (default port 9099): a client sends its user id, then only reads. */
export class UserClientListener extends TcpListener {
  readonly name = 'followermaze-clients';
  private readonly sockets = new Set<Socket>();
  private errors: RateLimitedLog | undefined;

  async start(): Promise<void> {
    this.errors = new RateLimitedLog(this.service.log, 'info', this.service.config.logIntervalMs);
    await this.listen(this.service.config.clientPort, this.service.config.maxClients, true);
  }

  protected onConnection(socket: Socket): void {
    const { maze, log, config } = this.service;
    const client = new ClientConnection(socket, maze);
    this.sockets.add(socket);
    let head: Buffer | undefined;
    let registered = false;
    const timer =
      config.registrationTimeoutMs > 0
        ? setTimeout(() => {
            log.info({ remote: socket.remoteAddress }, 'closing a user client that sent no user id (followermaze.registrationTimeoutMs)');
            socket.destroy();
          }, config.registrationTimeoutMs)
        : undefined;
    timer?.unref();

    // Only the first line is read: the user id. Whatever the client sends after it is ignored.
    const onData = (chunk: Buffer): void => {
      if (registered) return;
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > config.maxLineBytes) reject('its user id line is too long');
        return;
      }
      const id = parseUserId(head, 0, nl);
      if (id !== id) return reject(`Unable to receive user id from the client, got error: ${JSON.stringify(head.subarray(0, Math.min(nl, 100)).toString('utf8'))} is not an integer`);
      registered = true;
      head = undefined;
      clearTimeout(timer);
      maze.register(client, id);
    };
    const reject = (why: string): void => {
      log.info({ remote: socket.remoteAddress }, `closing a user client: ${why}`);
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', onData);
    // The client may shut down its sending side after its id and still read (allowHalfOpen).
    socket.on('end', () => {
      if (!registered) reject('it closed before sending a user id');
    });
    socket.on('error', (err) => this.errors?.log({ err: err.message, user: client.user?.id }, `Unable to write to user: ${client.user?.id ?? 'unregistered'}`));
    socket.on('close', () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
      if (registered) maze.unregister(client);
    });
  }

  /** Stops accepting, hands every client its last notifications, then closes the connections. */
  async stop(): Promise<void> {
    const closed = this.closeServer();
    this.service.maze.flushAll();
    for (const socket of this.sockets) socket.end();
    const grace = setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, CLIENT_CLOSE_GRACE_MS);
    await closed;
    clearTimeout(grace);
  }
}
