import type { StoreConfig } from '../config/schema.js';
import { LmdbStore } from './lmdb.js';
import { MemoryStore } from './memory.js';
import { PostgresStore } from './postgres/index.js';
import type { Logger } from '../observability/logger.js';
import type { RetentionPolicy, Store } from './types.js';

export type { Store } from './types.js';

/** Builds the store a config names (not yet opened). */
export function createStore(config: StoreConfig, defaultRetention: RetentionPolicy = {}, logger?: Logger): Store {
  switch (config.type) {
    case 'lmdb':
      return new LmdbStore({
        path: config.path,
        mapSize: Math.round(config.mapSizeGiB * 1024 ** 3),
        unmapAfterReadBytes: Math.round(config.unmapAfterReadMiB * 1024 ** 2),
        inlineCommitBytes: Math.round(config.inlineCommitKiB * 1024),
        wal: config.wal,
        defaultRetention,
      });
    case 'memory':
      return new MemoryStore({ maxEventsPerStream: config.maxEventsPerStream, defaultRetention });
    case 'postgres':
      return new PostgresStore({
        url: config.url,
        schema: config.schema,
        maxConnections: config.maxConnections,
        connectTimeoutMs: config.connectTimeoutMs,
        reconnectIntervalMs: config.reconnectIntervalMs,
        defaultRetention,
        ...(logger ? { logger } : {}),
      });
  }
}
