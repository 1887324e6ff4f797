import { z } from 'zod';
import { STREAM_NAME_RULE } from '../core/names.js';
import { SCHEMA_NAME_PATTERN } from '../store/postgres/schema.js';
import { port } from './sections/common.js';
import { eventbusSection } from './sections/eventbus.js';
import { eventpiperSection } from './sections/eventpiper.js';
import { followermazeSection } from './sections/followermaze.js';
import { gosepSection } from './sections/gosep.js';
import { liveSection } from './sections/live.js';
import { subscriptionsSection, webhooksSection } from './sections/webhooks.js';

/**
 * The single source of truth for every option: its type, default and one-line description.
 * `herald config` prints the effective result; docs/configuration.md is generated from it and a
 * test keeps the two in agreement.
 */

const retention = z
  .object({
    maxCount: z.number().int().positive().optional().describe('Keep at most this many of the newest events.'),
    maxAgeMs: z.number().int().positive().optional().describe('Remove events older than this many milliseconds.'),
  })
  .strict();

const lmdbStore = z
  .object({
    type: z.literal('lmdb').describe('Embedded, durable, single node (the default).'),
    path: z.string().min(1).default('./herald-data').describe('Directory of the LMDB database.'),
    mapSizeGiB: z.number().positive().default(64).describe('Largest size the database may grow to, in GiB (only what is used costs disk).'),
    unmapAfterReadMiB: z
      .number()
      .min(0)
      .default(64)
      .describe('Pages LMDB reads stay mapped, and count in RSS, until the kernel needs the memory; after reading this many MiB of events Herald reopens the database between two commits (a few ms) to unmap them. 0: never.'),
    inlineCommitKiB: z
      .number()
      .min(0)
      .default(16)
      .describe('A commit of at most this many KiB of events, with no other in flight, is written and flushed on the main thread: faster and cheaper for small batches, but the event loop waits for the disk meanwhile (docs/store.md). Bigger commits go to a write thread. 0: always the write thread (for a slow disk).'),
    wal: z
      .boolean()
      .default(true)
      .describe('Make those inline commits durable with one flush of a write-ahead log (herald-data/wal, 8 MiB) instead of an LMDB transaction, which flushes twice; LMDB takes the logged commits every 100 ms, in one transaction (docs/store.md). false: each inline commit is its own LMDB transaction.'),
  })
  .strict();

const memoryStore = z
  .object({
    type: z.literal('memory').describe('In memory, bounded, lost on restart: for tests and fire-and-forget use.'),
    maxEventsPerStream: z.number().int().positive().default(100_000).describe('Each stream keeps at most this many events.'),
  })
  .strict();

const postgresStore = z
  .object({
    type: z.literal('postgres').describe('PostgreSQL, shared by several Herald nodes (docs/scaling.md).'),
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').describe('postgres://user@host:5432/database (a password may come from PGPASSWORD instead of the URL).'),
    schema: z.string().regex(SCHEMA_NAME_PATTERN, 'a lower-case PostgreSQL identifier').default('herald').describe('PostgreSQL schema holding Herald\'s tables; created and migrated on start.'),
    maxConnections: z.number().int().positive().default(10).describe('Pool size for reads and small writes; each node also holds one writer and one LISTEN connection.'),
    connectTimeoutMs: z.number().int().positive().default(5000).describe('Time allowed to open a database connection, in ms.'),
    reconnectIntervalMs: z.number().int().positive().default(500).describe('While the database is unreachable (writes answer 503), how often to try again, in ms.'),
  })
  .strict();

const token = z
  .object({
    name: z.string().min(1).optional().describe('A label for logs.'),
    token: z.string().min(16).optional().describe('The bearer token itself (at least 16 characters).'),
    tokenEnv: z.string().min(1).optional().describe('Name of an environment variable holding the token.'),
    scopes: z
      .array(z.string().regex(/^(admin|publish|read)(:[^\s]+)?$/, 'a scope is admin, publish or read, optionally followed by :<stream pattern> (* matches any run of characters)'))
      .min(1)
      .describe('What the token may do: "publish:<pattern>", "read:<pattern>", "admin" (everything). A pattern like "orders.*"; none means every stream.'),
  })
  .strict()
  .refine((t) => (t.token === undefined) !== (t.tokenEnv === undefined), { message: 'give exactly one of token and tokenEnv' });

export const configSchema = z
  .object({
    store: z
      .discriminatedUnion('type', [lmdbStore, memoryStore, postgresStore])
      .default({ type: 'lmdb', path: './herald-data', mapSizeGiB: 64, unmapAfterReadMiB: 64, inlineCommitKiB: 16, wal: true })
      .describe('Where events are kept.'),
    http: z
      .object({
        enabled: z.boolean().default(true).describe('Serve the HTTP API.'),
        host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Binding beyond loopback without tokens needs http.insecure.'),
        port: port.default(8000).describe('TCP port (0 picks a free one).'),
        bodyLimit: z.number().int().positive().default(1024 * 1024).describe('Largest request body in bytes; larger bodies get 413.'),
        maxBatchEvents: z.number().int().positive().default(10_000).describe('Most events in one batch request; more get 413.'),
        maxConnections: z.number().int().positive().default(10_000).describe('Most open connections; further ones are closed at once.'),
        requestTimeoutMs: z.number().int().positive().default(30_000).describe('Time allowed to receive a whole request (headers and body), in ms; slower clients get 408.'),
        keepAliveTimeoutMs: z.number().int().positive().default(72_000).describe('How long an idle keep-alive connection stays open, in ms.'),
        createStreamsOnPublish: z.boolean().default(true).describe('Publishing to an absent stream creates it (otherwise 404).'),
        insecure: z.boolean().default(false).describe('Allow binding beyond loopback with no access tokens configured.'),
        cors: z
          .object({
            origins: z
              .array(z.string().regex(/^(\*|https?:\/\/[^\s/?#]+)$/, 'an origin is scheme://host[:port] (no path), or * for any'))
              .default([])
              .describe('Origins whose pages may call the API and follow SSE streams from a browser (https://app.example.com), or "*" for any. None: CORS off.'),
            maxAgeSeconds: z.number().int().nonnegative().default(600).describe('How long a browser may cache a preflight answer, in seconds.'),
          })
          .strict()
          .prefault({})
          .describe('Cross-origin access for browsers (CORS).'),
      })
      .strict()
      .prefault({})
      .describe('The HTTP API listener.'),
    auth: z
      .object({
        tokens: z.array(token).default([]).describe('Bearer tokens with scopes. None configured: no checks, loopback only.'),
      })
      .strict()
      .prefault({})
      .describe('Access control for the HTTP API.'),
    live: liveSection,
    retention: z
      .object({
        intervalMs: z.number().int().nonnegative().default(10_000).describe('How often retention policies are applied (0: never).'),
        default: retention.default({}).describe('Retention for streams created without a policy of their own.'),
      })
      .strict()
      .prefault({})
      .describe('Removing old events.'),
    eventbus: eventbusSection,
    followermaze: followermazeSection,
    eventpiper: eventpiperSection,
    gosep: gosepSection,
    webhooks: webhooksSection,
    subscriptions: subscriptionsSection,
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Least severe level logged.'),
        pretty: z.enum(['auto', 'true', 'false']).default('auto').describe('Human-readable logs; auto: when stdout is a terminal.'),
      })
      .strict()
      .prefault({})
      .describe('Logging (pino).'),
  })
  .strict();

export type HeraldConfig = z.output<typeof configSchema>;
export type HeraldConfigInput = z.input<typeof configSchema>;
export type StoreConfig = HeraldConfig['store'];
export type TokenConfig = HeraldConfig['auth']['tokens'][number];

export { STREAM_NAME_RULE };
