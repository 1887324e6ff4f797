import type { Store } from '../../store/types.js';

/** An event that exhausted its retries, kept until redriven or deleted. */
export interface DeadLetter {
  seq: number;
  eventId: string;
  /** Attempts made, over every redrive. */
  attempts: number;
  status?: number;
  error?: string;
  /** RFC 3339 time it was given up. */
  failedAt: string;
  /** True while a redrive is queued or running. */
  redrive?: boolean;
}

/** Where an event stands between retries, so a restart resumes its schedule rather than restarting it. */
export interface RetryState {
  attempts: number;
  /** ms since the epoch. */
  firstAttemptAt: number;
  nextAttemptAt: number;
}

const DEAD = 'webhook-dead';
const RETRY = 'webhook-retry';
/** Seqs zero-padded so that keys list in seq order. */
const seqKey = (id: string, seq: number): string => `${id}/${String(seq).padStart(16, '0')}`;

/** How often a lane's position is written at most: it is re-read only after a restart, and at-least-once delivery allows a redelivery. */
const POSITION_FLUSH_MS = 100;

/**
 * A lane's durable state in the store: its position (the store's consumer positions), its
 * events between retries, and its dead letters (key-value collections).
 */
export class LaneState {
  readonly consumer: string;
  private saved = -1;
  private pending = -1;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly id: string,
    private readonly stream: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.consumer = `webhook:${id}`;
  }

  async position(): Promise<number> {
    const seq = (await this.store.getPosition(this.stream, this.consumer)) ?? 0;
    this.saved = this.pending = seq;
    return seq;
  }

  /** Records the position; written within POSITION_FLUSH_MS (or by flush()). */
  advance(seq: number): void {
    if (seq <= this.pending) return;
    this.pending = seq;
    this.timer ??= setTimeout(() => void this.flush(), POSITION_FLUSH_MS);
  }

  /** Writes the latest position now. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      const seq = this.pending;
      if (seq <= this.saved) return;
      try {
        await this.store.setPosition(this.stream, this.consumer, seq);
        this.saved = seq;
      } catch (err) {
        this.onError(err);
      }
    });
    return this.flushing;
  }

  /** Sets the position outright (replay); earlier pending writes are dropped. */
  async reset(seq: number): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.store.setPosition(this.stream, this.consumer, seq);
    this.saved = this.pending = seq;
    const retries = await this.store.kvList(RETRY, { prefix: `${this.id}/`, limit: 100_000 });
    if (retries.length > 0) await this.store.kvWrite(retries.map(({ key }) => ({ collection: RETRY, key })));
  }

  /** Every saved retry state of this lane, by seq. */
  async retries(): Promise<Map<number, RetryState>> {
    const entries = await this.store.kvList<RetryState>(RETRY, { prefix: `${this.id}/`, limit: 1_000_000 });
    return new Map(entries.map(({ key, value }) => [Number(key.slice(this.id.length + 1)), value]));
  }

  saveRetry(seq: number, state: RetryState | undefined): Promise<void> {
    return this.store.kvWrite([{ collection: RETRY, key: seqKey(this.id, seq), value: state }]);
  }

  deadLetter(seq: number): Promise<DeadLetter | undefined> {
    return this.store.kvGet<DeadLetter>(DEAD, seqKey(this.id, seq));
  }

  /** Dead letters in seq order, after a seq, at most `limit`. */
  async deadLetters(options: { after?: number; limit?: number; redriving?: boolean } = {}): Promise<DeadLetter[]> {
    const entries = await this.store.kvList<DeadLetter>(DEAD, {
      prefix: `${this.id}/`,
      ...(options.after !== undefined ? { after: seqKey(this.id, options.after) } : {}),
      limit: options.limit ?? 100,
    });
    const letters = entries.map((e) => e.value);
    return options.redriving ? letters.filter((d) => d.redrive === true) : letters;
  }

  /** Writes a dead letter (or, with undefined, removes it) and forgets the event's retry state. */
  async putDeadLetter(seq: number, letter: DeadLetter | undefined): Promise<void> {
    await this.store.kvWrite([
      { collection: DEAD, key: seqKey(this.id, seq), value: letter },
      { collection: RETRY, key: seqKey(this.id, seq) },
    ]);
  }

  /** Removes everything of this lane (its subscription was deleted). */
  async destroy(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    for (const collection of [DEAD, RETRY]) {
      for (;;) {
        const entries = await this.store.kvList(collection, { prefix: `${this.id}/`, limit: 5000 });
        if (entries.length === 0) break;
        await this.store.kvWrite(entries.map(({ key }) => ({ collection, key })));
      }
    }
    if ((await this.store.getStream(this.stream)) !== undefined) {
      // Positions go with their stream; a removed subscription's position is simply left at 0.
      await this.store.setPosition(this.stream, this.consumer, 0).catch(() => undefined);
    }
  }
}
