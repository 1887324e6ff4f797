/**
 * herald/sinks: composable event sinks — docker/go-events in TypeScript. Every piece is a Sink
 * (`write`, `close`) that usually writes to another Sink; compose them (Broadcaster → Queue →
 * RetryingSink → your sink). Depends on nothing else in Herald. See docs/sinks.md.
 */
export type { Sink } from './Sink.js';
export { SinkClosedError } from './SinkClosedError.js';
export { SinkFullError } from './SinkFullError.js';
export type { ErrorHandler, FailureInfo } from './ErrorHandler.js';
export { Broadcaster, type BroadcasterOptions, type BroadcasterStats } from './Broadcaster.js';
export { Channel, type ChannelStats } from './Channel.js';
export { Queue, type QueueOptions, type QueueStats } from './Queue.js';
export { BoundedQueue, type BoundedQueueOptions, type BoundedQueueStats, type OverflowPolicy } from './BoundedQueue.js';
export type { RetryStrategy } from './RetryStrategy.js';
export { Breaker } from './Breaker.js';
export { DEFAULT_EXPONENTIAL_BACKOFF, ExponentialBackoff, type ExponentialBackoffConfig } from './ExponentialBackoff.js';
export { RetryingSink, type RetryingSinkOptions, type RetryingSinkStats } from './RetryingSink.js';
export { Filter, type FilterStats, type Matcher, type MatcherLike } from './Filter.js';
export { FuncSink, type FuncSinkOptions, type FuncSinkStats } from './FuncSink.js';
export { pipe, type PipeOptions } from './pipe.js';
