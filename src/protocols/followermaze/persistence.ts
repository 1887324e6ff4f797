import type { Logger } from '../../observability/logger.js';
import type { KvWrite, Store } from '../../store/types.js';
import type { FollowerMaze } from './maze.js';

/**
 * `followermaze.persist`: the next expected seq and the follower graph survive a restart.
 *
 * Saving per event would cost a store write per event, so the state is saved as a snapshot every
 * `intervalMs` and on a clean stop: the next expected seq plus the follower sets that changed
 * since the last snapshot, in one `kvWrite` (one atomic commit), so the saved seq and the saved
 * graph always belong together. A clean stop also saves the events still waiting for an earlier
 * seq, so nothing that was received is lost. A crash loses what happened after the last
 * snapshot: the restarted server expects the saved seq again, and a source that resends from
 * there rebuilds the same state (follows and unfollows are idempotent); clients then get the
 * notifications of the resent events a second time.
 */

const STATE = 'followermaze';
const STATE_KEY = 'state';
const FOLLOWERS = 'followermaze.followers';
const PAGE = 1000;

interface SavedState {
  next: number;
  /** Lines of events that were waiting at a clean stop, byte-exact as latin1 strings. */
  waiting?: string[];
}

export class MazePersistence {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  private savedNext = 0;
  /** Follower sets of a failed save, written with the next one. */
  private unsaved = new Map<number, number[]>();

  constructor(
    private readonly store: Store,
    private readonly maze: FollowerMaze,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    maze.graph.trackChanges();
  }

  /** Loads a saved state into the (still idle) maze; true when there was one. */
  async load(): Promise<boolean> {
    const state = await this.store.kvGet<SavedState>(STATE, STATE_KEY);
    let users = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.store.kvList<number[]>(FOLLOWERS, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
      for (const { key, value } of page) this.maze.graph.restore(Number(key), value);
      users += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.key;
    }
    this.maze.graph.takeChanges(); // what was just loaded is saved already
    if (state === undefined) return users > 0;
    this.maze.sequencer.next = state.next;
    this.savedNext = state.next;
    const waiting = state.waiting ?? [];
    for (const line of waiting) {
      const bytes = Buffer.from(`${line}\n`, 'latin1');
      this.maze.consume(bytes, 0, bytes.length, bytes.length);
    }
    // Saved waiting events are in memory again: the next snapshot must write the state without them.
    if (waiting.length > 0) this.savedNext = -1;
    this.log.info({ next: this.maze.sequencer.next, users, waiting: waiting.length }, `follower maze state restored: expecting event ${this.maze.sequencer.next}`);
    return true;
  }

  /** Saves every `intervalMs` from now on. */
  start(): void {
    this.timer = setInterval(() => void this.save(false), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and saves a final snapshot, including the events still waiting. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.saving;
    await this.save(true);
  }

  /** Saves a snapshot now (skipped when a save is still running, unless it is the final one). */
  save(final: boolean): Promise<void> {
    if (this.saving !== undefined && !final) return this.saving;
    const next = this.maze.sequencer.next;
    const changes = this.maze.graph.takeChanges();
    for (const c of changes) this.unsaved.set(c.id, c.followers);
    if (!final && next === this.savedNext && this.unsaved.size === 0) return Promise.resolve();
    const pending = this.unsaved;
    this.unsaved = new Map();
    const state: SavedState = { next };
    if (final) {
      const waiting = this.maze.sequencer.waitingEvents();
      if (waiting.length > 0) state.waiting = waiting.map((e) => Buffer.from(e.line).toString('latin1'));
    }
    const writes: KvWrite[] = [{ collection: STATE, key: STATE_KEY, value: state }];
    for (const [id, followers] of pending) writes.push({ collection: FOLLOWERS, key: String(id), value: followers.length > 0 ? followers : undefined });
    const run = this.store
      .kvWrite(writes)
      .then(() => {
        this.savedNext = next;
      })
      .catch((err: unknown) => {
        // Keep what did not land for the next attempt (newer changes of the same user win).
        for (const [id, followers] of pending) if (!this.unsaved.has(id)) this.unsaved.set(id, followers);
        this.log.error({ err }, 'saving the follower maze state failed; retrying with the next snapshot');
      })
      .finally(() => {
        if (this.saving === run) this.saving = undefined;
      });
    this.saving = run;
    return run;
  }
}
