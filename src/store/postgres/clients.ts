import postgres, { type Options, type Sql } from 'postgres';
import type { Logger } from '../../observability/logger.js';

/** Connection settings shared by the three clients of one postgres store. */
export interface ClientSettings {
  url: string;
  /** Connections for reads and small writes (the writer and the listener have one each). */
  maxConnections: number;
  connectTimeoutMs: number;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** The longest wait before dialling again after a connection failed, in ms. */
  reconnectIntervalMs: number;
  logger: Logger;
}

/** int8 columns (seqs, sids, heads) as JS numbers: every seq is far below 2^53. */
const int8 = {
  to: 20,
  from: [20],
  serialize: (x: number) => String(x),
  parse: (x: string) => Number(x),
};

export type Db = Sql;

/** postgres.js options; `onnotify` is an option it supports but does not declare. */
type ClientOptions = Options<{}> & { onnotify?: (channel: string, payload: string) => void };

function options(settings: ClientSettings, extra: ClientOptions): Options<{}> {
  return {
    connect_timeout: Math.max(1, Math.ceil(settings.connectTimeoutMs / 1000)),
    idle_timeout: 60,
    types: { int8 },
    connection: { application_name: settings.applicationName },
    fetch_types: false,
    // postgres.js waits 3^n/100 s (up to 20 s) before dialling again, n counting every failed
    // attempt of the whole pool until one succeeds: after an outage of a few seconds, the first
    // queries once the database is back would wait seconds. Herald paces its own probing.
    backoff: (attempt: number) => Math.min(0.025 * attempt, settings.reconnectIntervalMs / 1000),
    onnotice: (notice) => settings.logger.debug({ notice: notice.message }, 'postgres notice'),
    ...extra,
  } as Options<{}>;
}

/**
 * The pool for reads, stream management, positions, key-value collections and leases.
 */
export function createPool(settings: ClientSettings): Db {
  return postgres(settings.url, options(settings, { max: settings.maxConnections }));
}

/**
 * The writer: one connection that carries every append batch. Batches are pipelined on it (sent
 * without waiting for the previous answer) and PostgreSQL runs them in the order sent, so two
 * append calls made one after the other commit in that order.
 */
export function createWriter(settings: ClientSettings): Db {
  return postgres(settings.url, options(settings, { max: 1, idle_timeout: 0 }));
}

/**
 * The listener: one long-lived connection for LISTEN. `onNotify` gets every payload on any
 * channel it listens to; `onClose` is told when the connection drops (LISTEN must then be issued
 * again on the next one).
 */
export function createListener(settings: ClientSettings, onNotify: (channel: string, payload: string) => void, onClose: () => void): Db {
  return postgres(settings.url, options(settings, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    onnotify: onNotify,
    onclose: () => onClose(),
  }));
}

/**
 * The three clients of one postgres store, replaced as a set. After the database was lost, the
 * store starts over with fresh clients rather than trust the state of the old ones (their
 * reconnect logic left a writer stuck timing out while new clients connected at once). Events of
 * replaced clients (a late close, a stray notification) are ignored.
 */
export class Connections {
  pool!: Db;
  writer!: Db;
  listener!: Db;
  private generation = 0;

  constructor(
    private readonly settings: ClientSettings,
    private readonly onNotify: (payload: string) => void,
    private readonly onListenerClosed: () => void,
  ) {}

  /** Creates fresh clients (they connect on first use) and ends the previous ones without waiting. */
  async renew(): Promise<void> {
    const old = this.generation === 0 ? [] : [this.pool, this.writer, this.listener];
    const generation = ++this.generation;
    this.pool = createPool(this.settings);
    this.writer = createWriter(this.settings);
    this.listener = createListener(
      this.settings,
      (_channel, payload) => {
        if (generation === this.generation) this.onNotify(payload);
      },
      () => {
        if (generation === this.generation) this.onListenerClosed();
      },
    );
    await Promise.allSettled(old.map((client) => client.end({ timeout: 0 })));
  }

  /** Ends the current clients, letting running statements finish for up to `timeoutSeconds`. */
  async end(timeoutSeconds: number): Promise<void> {
    if (this.generation === 0) return;
    this.generation++;
    await Promise.allSettled([this.pool, this.writer, this.listener].map((client) => client.end({ timeout: timeoutSeconds })));
  }
}

/** The URL with its password masked, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}

/**
 * PostgreSQL array literals, sent as plain text parameters and cast in the SQL (`$1::text[]`).
 * postgres.js can type arrays itself, but only once a connection has fetched the array types,
 * which the first query on a fresh connection may precede.
 */
export const pgArray = {
  text(xs: readonly string[]): string {
    let out = '{';
    for (let i = 0; i < xs.length; i++) {
      if (i > 0) out += ',';
      const s = xs[i]!;
      out += `"${s.includes('"') || s.includes('\\') ? s.replace(/[\\"]/g, '\\$&') : s}"`;
    }
    return `${out}}`;
  },
  bool(xs: readonly boolean[]): string {
    return `{${xs.map((x) => (x ? 't' : 'f')).join(',')}}`;
  },
  int(xs: readonly number[]): string {
    return `{${xs.join(',')}}`;
  },
  /** bytea elements in hex form (`\x…`), the backslash escaped for the array syntax. */
  bytea(xs: readonly Uint8Array[]): string {
    let out = '{';
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const b = Buffer.isBuffer(x) ? x : Buffer.from(x.buffer, x.byteOffset, x.byteLength);
      out += `${i > 0 ? ',' : ''}"\\\\x${b.toString('hex')}"`;
    }
    return `${out}}`;
  },
};
