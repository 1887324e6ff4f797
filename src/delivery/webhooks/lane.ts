import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredEvent } from '../../core/event.js';
import { HeraldError } from '../../core/errors.js';
import type { Hub } from '../../core/hub.js';
import type { Logger } from '../../observability/logger.js';
import { AttemptHistory, type AttemptOutcomeName } from './attempts.js';
import { CircuitBreaker, type BreakerState } from './circuitBreaker.js';
import { matchesFilter, type EventMatcher } from './filter.js';
import type { LaneState, RetryState } from './laneState.js';
import type { WebhookMetrics } from './metrics.js';
import { Pacer } from './pacer.js';
import { buildRequest, isSuccess, signingKeys } from './request.js';
import { nextRetryDelay } from './retryPolicy.js';
import type { AttemptOutcome, WebhookSender } from './sender.js';
import type { Subscription } from './subscription.js';
import { Wakeup } from './wakeup.js';

export interface LaneSettings {
  attemptHistory: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  breakerMaxCooldownMs: number;
  leaseMs: number;
}

export interface LaneDeps {
  hub: Hub;
  sender: WebhookSender;
  metrics: WebhookMetrics;
  logger: Logger;
  settings: LaneSettings;
  /** This process's name for leases. */
  holder: string;
  /** The endpoint answered 410 Gone: the service disables the subscription. */
  disable(id: string, reason: string): Promise<void>;
}

/** Events read from the store at a time: bounds the lane's memory whatever its backlog. */
const PAGE = 100;
/** After a store failure (a lost database), the lane retries this much later. */
const STORE_RETRY_MS = 1000;

/** What the API shows of a running lane. */
export interface LaneStatus {
  position: number;
  head: number;
  lag: number;
  inFlight: number;
  breaker: BreakerState;
  /** Whether this node drives the lane (always, on a single-node store). */
  leader: boolean;
  delivered: number;
  failed: number;
  retried: number;
  dropped: number;
}

class LaneStopped extends Error {}

/**
 * One endpoint's delivery lane: reads its stream from its durable position, a page at a time,
 * and delivers each matching event with retries, at most `maxInFlight` at once (1: strict order).
 * Its backlog is the stream itself, on disk; in memory it holds one page and the requests in
 * flight. The position advances over the finished prefix (delivered, dead-lettered, or filtered
 * out) and is written at most every 100 ms, so a crash redelivers at most that much: at least once.
 */
export class DeliveryLane {
  readonly attempts: AttemptHistory;
  readonly breaker: CircuitBreaker;
  private readonly log: Logger;
  private readonly matcher: EventMatcher;
  private controller = new AbortController();
  private running: Promise<void> | undefined;
  private readonly wakeup = new Wakeup();
  private readonly pacer = new Pacer();
  /** Seqs of main-line deliveries in flight. */
  private readonly inFlight = new Set<number>();
  private redrives: number[] = [];
  /** Saved retry states of this lane's events (read once per start; kept in step with the store). */
  private retries = new Map<number, RetryState>();
  private redrivesRunning = 0;
  /** Last seq taken from the stream (delivered, in flight, or skipped). */
  private cursor = 0;
  private page: StoredEvent[] = [];
  /** The pending wait for the stream to grow past `after`. */
  private headWait: { after: number; promise: Promise<void> } | undefined;
  private leader = false;
  private readonly untrack: () => void;
  private counts = { delivered: 0, failed: 0, retried: 0, dropped: 0 };

  constructor(
    private sub: Subscription,
    private readonly state: LaneState,
    private readonly deps: LaneDeps,
  ) {
    this.attempts = new AttemptHistory(deps.settings.attemptHistory);
    this.breaker = new CircuitBreaker({ threshold: deps.settings.breakerThreshold, cooldownMs: deps.settings.breakerCooldownMs, maxCooldownMs: deps.settings.breakerMaxCooldownMs });
    this.log = deps.logger.child({ endpoint: sub.id });
    this.matcher = matchesFilter(sub.filter);
    this.untrack = deps.metrics.track({ id: sub.id, lag: () => this.lag(), breakerState: () => this.breaker.state });
  }

  get subscription(): Subscription {
    return this.sub;
  }

  start(): void {
    this.controller = new AbortController();
    this.running = this.run(this.controller.signal);
  }

  /** Stops delivering (requests in flight are cancelled; their events stay undelivered) and saves the position. */
  async stop(): Promise<void> {
    this.controller.abort(new LaneStopped());
    await this.running;
    this.running = undefined;
    await this.state.flush();
    if (this.leader) await this.deps.hub.store.releaseLease(this.leaseName, this.deps.holder).catch(() => undefined);
    this.leader = false;
  }

  /** Stops for good (the subscription is gone). */
  async dispose(): Promise<void> {
    await this.stop();
    this.untrack();
  }

  /** Takes changed settings (state, url, secrets …) for the next attempts. */
  update(sub: Subscription): void {
    this.sub = sub;
    this.wakeup.notify();
  }

  /** Queues a dead letter for redelivery. */
  redrive(seq: number): void {
    if (!this.redrives.includes(seq)) this.redrives.push(seq);
    this.wakeup.notify();
  }

  status(): LaneStatus {
    const head = this.deps.hub.store.head(this.sub.stream);
    return { position: this.position(), head, lag: this.lag(), inFlight: this.inFlight.size + this.redrivesRunning, breaker: this.breaker.state, leader: this.leader, ...this.counts };
  }

  /** Events taken but not yet finished, plus those not yet taken. */
  lag(): number {
    return Math.max(0, this.deps.hub.store.head(this.sub.stream) - this.position());
  }

  private position(): number {
    let min = this.cursor;
    for (const seq of this.inFlight) if (seq - 1 < min) min = seq - 1;
    return min;
  }

  private get leaseName(): string {
    return `webhook:${this.sub.id}`;
  }

  // ---- the loop ------------------------------------------------------------------------------

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.sub.state !== 'active') {
          await this.wakeup.wait(signal);
          continue;
        }
        if (!(await this.holdLease())) {
          await sleep(this.deps.settings.leaseMs / 3, undefined, { signal });
          continue;
        }
        await this.pump(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.log.error({ err }, 'webhook lane failed; retrying');
        await sleep(STORE_RETRY_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private async holdLease(): Promise<boolean> {
    this.leader = await this.deps.hub.store.acquireLease(this.leaseName, this.deps.holder, this.deps.settings.leaseMs);
    return this.leader;
  }

  /** Delivers while active and leading; returns to let run() re-check both. */
  private async pump(outer: AbortSignal): Promise<void> {
    const inner = new AbortController();
    const signal = AbortSignal.any([outer, inner.signal]);
    const renew = setInterval(() => {
      void this.holdLease().then(
        (held) => held || inner.abort(new LaneStopped()),
        () => inner.abort(new LaneStopped()),
      );
    }, this.deps.settings.leaseMs / 3);
    const work = new Set<Promise<void>>();
    try {
      this.cursor = await this.state.position();
      this.page = [];
      this.pacer.reset(); // the slots the last run's waiters took went with them
      this.redrives = (await this.state.deadLetters({ redriving: true, limit: 100_000 })).map((d) => d.seq);
      this.retries = await this.state.retries();
      while (!signal.aborted && this.sub.state === 'active') {
        const launched = this.launchRedrive(signal, work) || (await this.launchNext(signal, work));
        if (!launched) await this.waitForWork(signal);
      }
    } finally {
      clearInterval(renew);
      inner.abort(new LaneStopped());
      await Promise.allSettled(work);
      this.inFlight.clear();
      this.page = [];
    }
  }

  private get free(): boolean {
    return this.inFlight.size + this.redrivesRunning < this.sub.maxInFlight;
  }

  private launchRedrive(signal: AbortSignal, work: Set<Promise<void>>): boolean {
    if (!this.free || this.redrives.length === 0) return false;
    const seq = this.redrives.shift()!;
    this.redrivesRunning++;
    this.track(work, this.redeliver(seq, signal).finally(() => this.redrivesRunning--));
    return true;
  }

  /** Takes the next event of the stream and launches its delivery; false when none is ready. */
  private async launchNext(signal: AbortSignal, work: Set<Promise<void>>): Promise<boolean> {
    if (!this.free) return false;
    const event = await this.nextEvent();
    if (event === undefined) return false;
    if (event.seq > this.cursor + 1) this.skipped(event.seq - this.cursor - 1, 'removed by retention before delivery');
    this.cursor = event.seq;
    if (!this.matcher(event)) {
      this.state.advance(this.position());
      return true;
    }
    this.inFlight.add(event.seq);
    this.track(
      work,
      this.deliver(event, signal).then(() => {
        this.inFlight.delete(event.seq);
        this.state.advance(this.position());
      }),
    );
    return true;
  }

  private track(work: Set<Promise<void>>, job: Promise<void>): void {
    const settled = job
      .catch((err: unknown) => {
        const stopped = err instanceof LaneStopped || (err instanceof Error && err.name === 'AbortError');
        if (!stopped) this.log.error({ err }, 'webhook delivery failed unexpectedly');
      })
      .finally(() => {
        work.delete(settled);
        this.wakeup.notify();
      });
    work.add(settled);
  }

  private async nextEvent(): Promise<StoredEvent | undefined> {
    const { stream } = this.sub;
    const head = this.deps.hub.store.head(stream);
    if (head < this.cursor) {
      // The stream was deleted and created again: its seqs start over.
      this.log.warn({ stream, cursor: this.cursor, head }, 'stream restarted below the lane position; delivering it from its start');
      this.cursor = 0;
      this.page = [];
      await this.state.reset(0);
    }
    if (this.sub.policy === 'gosep' && this.sub.buffer !== undefined && head - this.cursor > this.sub.buffer) {
      // go-sep's bounded buffer: at most `buffer` events wait; the oldest waiting are dropped.
      const skip = head - this.cursor - this.sub.buffer;
      this.cursor += skip;
      this.page = this.page.filter((e) => e.seq > this.cursor);
      this.skipped(skip, 'dropped by the bounded (go-sep) buffer');
    }
    if (this.page.length === 0 && head > this.cursor) {
      try {
        this.page = await this.deps.hub.read(stream, { after: this.cursor, limit: PAGE });
      } catch (err) {
        if (!(err instanceof HeraldError && err.code === 'stream_not_found')) throw err;
      }
      if (this.page.length === 0) {
        // Retention removed everything up to the head before the lane read it.
        this.skipped(head - this.cursor, 'removed by retention before delivery');
        this.cursor = head;
        this.state.advance(this.position());
      }
    }
    return this.page.shift();
  }

  private skipped(count: number, why: string): void {
    this.counts.dropped += count;
    this.deps.metrics.dropped.inc({ endpoint: this.sub.id }, count);
    if (this.sub.policy !== 'gosep') this.log.warn({ count, cursor: this.cursor }, `events ${why}`);
  }

  /**
   * Waits for a slot to free up, a wake-up (redrive, settings), or, with a free slot, new events.
   * No abort controller per wait (creating and aborting one per delivery showed in profiles):
   * the head wait is reused while the cursor stays, and the pump's signal ends it on stop.
   */
  private async waitForWork(signal: AbortSignal): Promise<void> {
    if (!this.free) return this.wakeup.wait(signal);
    await Promise.race([this.wakeup.wait(signal), this.waitForHead(signal)]);
  }

  private waitForHead(signal: AbortSignal): Promise<void> {
    if (this.headWait?.after !== this.cursor) {
      const after = this.cursor;
      const promise = this.deps.hub.waitForEvents(this.sub.stream, after, signal);
      this.headWait = { after, promise };
      void promise.then(() => {
        if (this.headWait?.promise === promise) this.headWait = undefined;
      });
    }
    return this.headWait!.promise;
  }

  // ---- one event -------------------------------------------------------------------------------

  /** Delivers a main-line event: retries on its schedule, then dead-letters it. */
  private async deliver(event: StoredEvent, signal: AbortSignal): Promise<void> {
    const durable = this.sub.policy === 'durable';
    const saved = durable ? this.retries.get(event.seq) : undefined;
    this.retries.delete(event.seq);
    const outcome = await this.attemptUntilDone(event, signal, saved?.attempts ?? 0, saved?.firstAttemptAt, saved?.nextAttemptAt, true);
    if (outcome.done === 'delivered') {
      if (saved !== undefined || outcome.persisted) await this.state.saveRetry(event.seq, undefined);
      return;
    }
    await this.state.putDeadLetter(event.seq, { seq: event.seq, eventId: event.id, attempts: outcome.attempts, ...describe(outcome.last), failedAt: new Date().toISOString() });
  }

  /** Redelivers a dead letter: a fresh schedule; delivered, it leaves the dead letters. */
  private async redeliver(seq: number, signal: AbortSignal): Promise<void> {
    const letter = await this.state.deadLetter(seq);
    if (letter === undefined) return;
    const [event] = await this.deps.hub.read(this.sub.stream, { after: seq - 1, limit: 1 }).catch(() => []);
    if (event === undefined || event.seq !== seq || event.id !== letter.eventId) {
      await this.state.putDeadLetter(seq, { ...letter, redrive: false, error: 'the event is no longer stored (retention); it cannot be redriven' });
      return;
    }
    const outcome = await this.attemptUntilDone(event, signal, 0, undefined, undefined, false);
    if (outcome.done === 'delivered') await this.state.putDeadLetter(seq, undefined);
    else await this.state.putDeadLetter(seq, { ...letter, attempts: letter.attempts + outcome.attempts, ...describe(outcome.last), failedAt: new Date().toISOString(), redrive: false });
  }

  private async attemptUntilDone(
    event: StoredEvent,
    signal: AbortSignal,
    attempts: number,
    firstAttemptAt: number | undefined,
    nextAttemptAt: number | undefined,
    persistRetries: boolean,
  ): Promise<{ done: 'delivered' | 'dead'; attempts: number; last?: AttemptOutcome; persisted?: boolean }> {
    const id = this.sub.id;
    let persisted = false;
    if (nextAttemptAt !== undefined && nextAttemptAt > Date.now()) await sleep(nextAttemptAt - Date.now(), undefined, { signal });
    for (;;) {
      const sub = this.sub;
      const guarded = sub.policy === 'durable';
      // Paced before the breaker: an abort while waiting for a slot then holds no probe.
      await this.pacer.wait(sub.rateLimit, signal);
      if (guarded) await this.breaker.acquire(signal);
      const now = Date.now();
      firstAttemptAt ??= now;
      let outcome: AttemptOutcome;
      try {
        outcome = await this.deps.sender.send(buildRequest(sub, event, signingKeys(sub, now), now), signal);
      } catch (err) {
        if (guarded) this.breaker.abandon();
        throw err;
      }
      attempts++;
      this.deps.metrics.latency.observe({ endpoint: id }, outcome.latencyMs / 1000);
      const record = (result: AttemptOutcomeName): void =>
        this.attempts.add({ time: now, seq: event.seq, eventId: event.id, attempt: attempts, status: outcome.status, error: outcome.error, latencyMs: outcome.latencyMs, response: outcome.body, outcome: result });

      if (isSuccess(sub, outcome.status)) {
        if (guarded) this.breaker.success();
        this.counts.delivered++;
        this.deps.metrics.delivered.inc({ endpoint: id });
        record('delivered');
        return { done: 'delivered', attempts, last: outcome, persisted };
      }
      if (guarded) this.breaker.failure();
      if (outcome.status === 410 && sub.format === 'standard') {
        record('disabled');
        await this.deps.disable(id, `the endpoint answered 410 Gone at ${new Date(now).toISOString()}`);
        throw new LaneStopped();
      }
      const retryAfter = outcome.status === 429 || outcome.status === 503 ? outcome.retryAfterMs : undefined;
      const delay = nextRetryDelay(sub, attempts, firstAttemptAt, Date.now(), retryAfter);
      if (delay === undefined) {
        this.counts.failed++;
        this.deps.metrics.failed.inc({ endpoint: id });
        record('dead');
        this.log.warn({ seq: event.seq, eventId: event.id, attempts, status: outcome.status, error: outcome.error }, 'webhook event dead-lettered after its last retry');
        return { done: 'dead', attempts, last: outcome };
      }
      this.counts.retried++;
      this.deps.metrics.retried.inc({ endpoint: id });
      record('retrying');
      if (persistRetries && sub.policy === 'durable') {
        await this.state.saveRetry(event.seq, { attempts, firstAttemptAt, nextAttemptAt: Date.now() + delay });
        persisted = true;
      }
      await sleep(delay, undefined, { signal });
    }
  }
}

function describe(outcome: AttemptOutcome | undefined): { status?: number; error?: string } {
  if (outcome === undefined) return {};
  if (outcome.status !== undefined) return { status: outcome.status, ...(outcome.body ? { error: `HTTP ${outcome.status}: ${outcome.body.slice(0, 200)}` } : { error: `HTTP ${outcome.status}` }) };
  return outcome.error !== undefined ? { error: outcome.error } : {};
}
