/** Herald's public API: the hub, its stores and its types. The sink library is `herald/sinks`. */
export { Hub, type HubOptions, type TailOptions } from './core/hub.js';
export type { StoredEvent, EventInput, AppendResult } from './core/event.js';
export { HeraldError, type HeraldErrorCode } from './core/errors.js';
export type { Listener } from './core/listener.js';
export type { Store, StreamInfo, StreamOptions, RetentionPolicy, ReadOptions, AppendOptions } from './store/types.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory.js';
export { LmdbStore, type LmdbStoreOptions } from './store/lmdb.js';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres/index.js';
export { createStore } from './store/index.js';
export { configSchema, type HeraldConfig, type HeraldConfigInput } from './config/schema.js';
export { HeraldMetrics } from './observability/metrics.js';
export { createLogger, type Logger } from './observability/logger.js';
export { loadConfig, ConfigError } from './config/load.js';
export { startServer, type RunningServer } from './server.js';
export {
  EventBusClient,
  EventBusError,
  type EventBusCredentials,
  type EventBusEvent,
  type EventBusResponse,
  type EventBusStatus,
  type EventBusStream,
} from './protocols/eventbus/index.js';
export { createFollowerMazeListeners, type FollowerMazeListeners, type MazeStats } from './protocols/followermaze/index.js';
