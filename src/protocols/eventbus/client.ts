import { connect, type Socket } from 'node:net';

/**
 * A small typed client for the event-bus protocol, mirroring the original Go client
 * (go-web-dev/event-bus-go: New, Health, Exit, CreateStream, DeleteStream, GetStreamInfo,
 * GetStreamEvents, WriteEvent, ProcessEvents, RetryEvents, MarkEvent). One TCP connection;
 * calls may be issued without awaiting the previous one (they are pipelined and answered in
 * order). A reply with a `reason` rejects with an EventBusError carrying it.
 */

export interface EventBusCredentials {
  clientId: string;
  clientSecret: string;
}

/** An event-bus stream as the server describes it. */
export interface EventBusStream {
  id: string;
  name: string;
  /** RFC 3339 (nanosecond precision, trailing zeros trimmed). */
  createdAt: string;
}

/** 0 unprocessed, 1 processed, 2 retry. */
export type EventBusStatus = 0 | 1 | 2;

export interface EventBusEvent {
  id: string;
  streamId: string;
  status: EventBusStatus;
  createdAt: string;
  /** The event's JSON, parsed. */
  body: unknown;
}

/** One reply line, parsed. */
export interface EventBusResponse {
  operation: string;
  status: boolean;
  body?: unknown;
  context?: unknown;
  reason?: string;
}

export class EventBusError extends Error {
  override readonly name = 'EventBusError';
  constructor(
    /** The operation the server named in its reply (`decode_request` for undecodable lines). */
    readonly operation: string,
    /** The server's `reason`. */
    readonly reason: string,
    /** The server's `context` (the required fields, for "missing required fields"). */
    readonly context?: unknown,
  ) {
    super(reason);
  }
}

interface Waiter {
  resolve(response: EventBusResponse): void;
  reject(err: Error): void;
}

interface WireStream {
  id: string;
  name: string;
  created_at: string;
}
interface WireEvent {
  id: string;
  stream_id: string;
  status: EventBusStatus;
  created_at: string;
  body: unknown;
}

export class EventBusClient {
  private buffered = '';
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly credentials: EventBusCredentials,
  ) {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (text: string) => this.onData(text));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('event-bus connection closed')));
  }

  /** Opens one connection (`New` in the Go client). `address` is `host:port` or `tcp://host:port`. */
  static connect(address: string, credentials: EventBusCredentials): Promise<EventBusClient> {
    const url = new URL(address.includes('://') ? address : `tcp://${address}`);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new EventBusClient(socket, credentials));
      });
    });
  }

  async health(): Promise<void> {
    await this.call('health');
  }

  /** Asks the server to close the connection; resolves with its reply. */
  async exit(): Promise<void> {
    await this.call('exit');
  }

  async createStream(name: string): Promise<EventBusStream> {
    return toStream((await this.call('create_stream', { stream_name: name })).body);
  }

  async deleteStream(name: string): Promise<void> {
    await this.call('delete_stream', { stream_name: name });
  }

  async getStreamInfo(name: string): Promise<EventBusStream> {
    return toStream((await this.call('get_stream_info', { stream_name: name })).body);
  }

  async getStreamEvents(name: string): Promise<EventBusEvent[]> {
    return toEvents((await this.call('get_stream_events', { stream_name: name })).body);
  }

  /** Writes any JSON value as an event (no id comes back, as in the original). */
  async writeEvent(stream: string, event: unknown): Promise<void> {
    await this.call('write_event', { stream_name: stream, event });
  }

  /** Events with status 0 (unprocessed), oldest first. Does not change their status. */
  async processEvents(stream: string): Promise<EventBusEvent[]> {
    return toEvents((await this.call('process_events', { stream_name: stream })).body);
  }

  /** Events with status 2 (retry), oldest first. */
  async retryEvents(stream: string): Promise<EventBusEvent[]> {
    return toEvents((await this.call('retry_events', { stream_name: stream })).body);
  }

  async markEvent(eventId: string, status: EventBusStatus): Promise<void> {
    await this.call('mark_event', { event_id: eventId, status });
  }

  /**
   * Sends one request (keys in the Go client's order: operation, body, auth) and resolves with
   * the parsed reply, whatever its status.
   */
  request(operation: string, body?: unknown): Promise<EventBusResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const auth = { client_id: this.credentials.clientId, client_secret: this.credentials.clientSecret };
    const line = JSON.stringify(body === undefined ? { operation, auth } : { operation, body, auth });
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.socket.write(`${line}\n`);
    });
  }

  /** Closes the connection (without `exit`). */
  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  private async call(operation: string, body?: unknown): Promise<EventBusResponse> {
    const response = await this.request(operation, body);
    if (response.reason !== undefined) throw new EventBusError(response.operation, response.reason, response.context);
    return response;
  }

  private onData(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const waiter = this.waiters.shift();
      if (!waiter) continue;
      try {
        waiter.resolve(JSON.parse(line) as EventBusResponse);
      } catch {
        waiter.reject(new Error(`unreadable event-bus reply: ${line.slice(0, 200)}`));
      }
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }
}

function toStream(body: unknown): EventBusStream {
  const s = (body as { stream: WireStream }).stream;
  return { id: s.id, name: s.name, createdAt: s.created_at };
}

function toEvents(body: unknown): EventBusEvent[] {
  return (body as { events: WireEvent[] }).events.map((e) => ({ id: e.id, streamId: e.stream_id, status: e.status, createdAt: e.created_at, body: e.body }));
}
