import type { StoreConfig } from '../config/schema.js';
import { LmdbStore } from './lmdb.js';
import { MemoryStore } from './memory.js';
import type { RetentionPolicy, Store } from './types.js';

export type { Store } from './types.js';

/** Builds the store a config names (not yet opened). */
export function createStore(config: StoreConfig, defaultRetention: RetentionPolicy = {}): Store {
  switch (config.type) {
    case 'lmdb':
      return new LmdbStore({ path: config.path, mapSize: Math.round(config.mapSizeGiB * 1024 ** 3), defaultRetention });
    case 'memory':
      return new MemoryStore({ maxEventsPerStream: config.maxEventsPerStream, defaultRetention });
  }
}
