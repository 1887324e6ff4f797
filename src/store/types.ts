import type { AppendResult, EventInput, StoredEvent } from '../core/event.js';

/** How long a stream keeps its events. Unset fields mean "no limit". */
export interface RetentionPolicy {
  /** Keep at most this many of the newest events. */
  maxCount?: number;
  /** Remove events older than this many milliseconds (by append time). */
  maxAgeMs?: number;
}

export interface StreamOptions {
  retention?: RetentionPolicy;
}

export interface StreamInfo {
  name: string;
  /** RFC 3339 creation time. */
  created: string;
  /** Number of events currently stored (after retention). */
  count: number;
  /** Seq of the oldest stored event; `lastSeq + 1` when the stream is empty. */
  firstSeq: number;
  /** Seq of the newest event ever appended (0 when none); never goes back, even after retention. */
  lastSeq: number;
  /** Payload bytes currently stored. */
  bytes: number;
  retention: RetentionPolicy;
}

export interface ReadOptions {
  /** Return events with seq strictly greater than this (default 0: from the start). */
  after?: number;
  /** At most this many events (default 1000). */
  limit?: number;
}

export interface AppendOptions {
  /** Create streams that do not exist yet (default true). */
  createStreams?: boolean;
}

/**
 * One write to the store's small key-value collections: `value` undefined deletes the key.
 * Values are JSON-like (objects, arrays, strings, numbers, booleans, null).
 */
export interface KvWrite {
  collection: string;
  key: string;
  value?: unknown;
}

export interface KvListOptions {
  /** Only keys starting with this. */
  prefix?: string;
  /** Only keys strictly beyond this one in listing order (for paging). */
  after?: string;
  /** At most this many entries (default 1000). */
  limit?: number;
  /** Newest keys first (default: ascending key order). */
  reverse?: boolean;
}

/** Called after a commit is durable, once per stream that grew, with its new head seq. */
export type AppendListener = (stream: string, head: number) => void;

/**
 * The store contract (DESIGN.md §3). Every implementation passes test/store/contract.ts.
 *
 * Ordering: appends resolve only once durable; a stream's `seq` is assigned 1..n with no gap;
 * readers never see an event before it is durable, and `onAppend` fires after that point.
 */
export interface Store {
  /** "memory", "lmdb", "postgres": shown in logs and metrics. */
  readonly kind: string;
  /**
   * True when other processes write the same store (several Herald nodes on one database):
   * adapters then re-read their own state (e.g. webhook subscriptions) now and then.
   */
  readonly shared?: boolean;
  open(): Promise<void>;
  /** Finishes every pending write, then closes. Appends after close reject with `store_closed`. */
  close(): Promise<void>;
  /** True between a successful open() and close(). */
  readonly isOpen: boolean;
  /** Observer of each durable commit: events in it and its duration in seconds (for metrics). */
  onCommit?: (events: number, seconds: number) => void;

  /**
   * Appends events (to one or several streams) atomically: all land or none do.
   * An event whose id is already stored is not stored again; its result carries the original
   * stream/seq with `duplicate: true`.
   */
  append(events: EventInput[], options?: AppendOptions): Promise<AppendResult[]>;
  read(stream: string, options?: ReadOptions): Promise<StoredEvent[]>;
  /** The stored position of an event id, if it is still stored. */
  lookupId(id: string): Promise<{ stream: string; seq: number } | undefined>;

  createStream(name: string, options?: StreamOptions): Promise<StreamInfo>;
  /** Changes a stream's options; creates the stream when absent. */
  putStream(name: string, options: StreamOptions): Promise<{ info: StreamInfo; created: boolean }>;
  getStream(name: string): Promise<StreamInfo | undefined>;
  listStreams(): Promise<StreamInfo[]>;
  /** Removes a stream, its events and its consumer positions. False when it did not exist. */
  deleteStream(name: string): Promise<boolean>;

  /** The newest seq of a stream (0 when empty or absent), without I/O. */
  head(stream: string): number;
  /** Registers a listener for durable appends; returns the function that removes it. */
  onAppend(listener: AppendListener): () => void;

  /** Removes events past each stream's retention policy; returns how many were removed. */
  applyRetention(now?: Date): Promise<number>;

  /** Durable consumer positions: the last seq a named consumer has finished with. */
  getPosition(stream: string, consumer: string): Promise<number | undefined>;
  setPosition(stream: string, consumer: string, seq: number): Promise<void>;

  /**
   * Durable key-value collections for the adapters' own state (webhook subscriptions, delivery
   * attempts, dead letters, event-bus statuses). Writes of one call land atomically, in the same
   * group commit as appends, and resolve once durable. Keys of a collection list in ascending
   * string order. Values come back as copies.
   */
  kvWrite(writes: KvWrite[]): Promise<void>;
  /**
   * A conditional kvWrite, for read-modify-write across nodes: applies `writes` (atomically and
   * durably, as kvWrite) only when every key in `expect` holds the value given there right now
   * (compared as JSON text; no `value`: the key must be absent). Resolves true when written,
   * false when a condition did not hold (nothing written). The check and the writes are one
   * atomic step for every process sharing the store: of two calls that expect the same value of
   * a key and both change it, one succeeds and the other gets false. Keys used as conditions
   * should be written only through this method (e.g. a version number bumped by each change).
   */
  kvWriteIf(expect: KvWrite[], writes: KvWrite[]): Promise<boolean>;
  kvGet<T = unknown>(collection: string, key: string): Promise<T | undefined>;
  kvList<T = unknown>(collection: string, options?: KvListOptions): Promise<Array<{ key: string; value: T }>>;

  /**
   * Named leases, so that a piece of work (a webhook lane, the EventPiper source) is driven by
   * one holder at a time across every node sharing the store. Takes the lease when it is free or
   * expired, renews it when `holder` already has it; true when `holder` holds it for the next
   * `ttlMs`. A single-node store keeps leases in memory (one process owns its data).
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up early (no-op unless `holder` holds it). */
  releaseLease(name: string, holder: string): Promise<void>;
}
