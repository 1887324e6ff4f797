import { randomUUID } from 'node:crypto';
import type { HeraldConfig } from '../../config/schema.js';
import { HeraldError } from '../../core/errors.js';
import type { Hub } from '../../core/hub.js';
import type { Logger } from '../../observability/logger.js';
import type { AttemptRecord } from './attempts.js';
import { DeliveryLane, type LaneStatus } from './lane.js';
import { LaneState, type DeadLetter } from './laneState.js';
import { WebhookMetrics } from './metrics.js';
import { buildRequest, isSuccess, signingKeys } from './request.js';
import { WebhookSender } from './sender.js';
import { generateSecret } from './signature.js';
import {
  publicView,
  type CreateSubscription,
  type Subscription,
  type SubscriptionState,
  type UpdateSubscription,
} from './subscription.js';
import { configuredSubscriptions, type DeclaredSubscription } from './declared.js';

const SUBSCRIPTIONS = 'webhook-subscriptions';

export type SubscriptionView = ReturnType<typeof publicView> & { status: LaneStatus };

/** The type of the events `sendTest` sends. */
const TEST_EVENT_TYPE = 'herald.test';

/** What a test delivery came to. */
export interface TestDelivery {
  eventId: string;
  delivered: boolean;
  status?: number;
  error?: string;
  latencyMs: number;
  /** The start of the response body. */
  response?: string;
}

/**
 * Webhook subscriptions and their delivery lanes: the subscriptions are kept in the store (those
 * of the config file and go-sep queues are synced into it at start), and each active one has a
 * lane. The HTTP routes are a thin layer over these methods.
 */
export class WebhookService {
  private readonly lanes = new Map<string, DeliveryLane>();
  private readonly sender: WebhookSender;
  private readonly metrics: WebhookMetrics;
  private readonly log: Logger;
  /** This process's lease holder name. */
  private readonly holder = `node-${randomUUID()}`;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly hub: Hub,
    private readonly config: HeraldConfig,
    logger: Logger,
    /** Default: registered on the hub's registry (a second service on one hub needs its own). */
    metrics?: WebhookMetrics,
  ) {
    this.log = logger.child({ component: 'webhook' });
    this.sender = new WebhookSender({ maxResponseBytes: config.webhooks.maxResponseBytes, connectionsPerOrigin: config.webhooks.maxConnectionsPerOrigin });
    this.metrics = metrics ?? new WebhookMetrics(hub.metrics.registry);
  }

  /** Syncs declared subscriptions into the store and starts every lane. */
  async start(): Promise<void> {
    const stored = new Map((await this.hub.store.kvList<Subscription>(SUBSCRIPTIONS, { limit: 1_000_000 })).map((e) => [e.key, e.value]));
    const declared = configuredSubscriptions(this.config);
    for (const [id, sub] of stored) {
      if (sub.source !== 'api' && !declared.some((d) => d.id === id)) {
        await this.removeStored(sub);
        stored.delete(id);
      }
    }
    for (const d of declared) stored.set(d.id, await this.syncDeclared(d, stored.get(d.id)));
    for (const sub of stored.values()) this.startLane(sub);
    if (this.hub.store.shared) {
      this.syncTimer = setInterval(() => {
        this.syncing = this.syncing.then(() => this.sync()).catch((err: unknown) => this.log.error({ err }, 're-reading the subscriptions failed'));
      }, this.config.webhooks.syncIntervalMs);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.syncing;
    await Promise.all([...this.lanes.values()].map((lane) => lane.dispose()));
    this.lanes.clear();
    await this.sender.close();
  }

  // ---- the API -------------------------------------------------------------------------------

  /** Creates a subscription; the answer carries its secret, which is never shown again. */
  async create(input: CreateSubscription): Promise<{ subscription: SubscriptionView; secret: string }> {
    const now = new Date().toISOString();
    const secret = input.secret ?? generateSecret();
    const sub = this.build(`sub_${randomUUID()}`, input, secret, 'api', now);
    await this.setStart(sub, input.start ?? 'now');
    await this.save(sub);
    this.startLane(sub);
    return { subscription: this.view(sub), secret };
  }

  list(): SubscriptionView[] {
    return [...this.lanes.values()].map((lane) => this.view(lane.subscription)).sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1));
  }

  get(id: string): SubscriptionView {
    return this.view(this.lane(id).subscription);
  }

  /** Changes settings; a new `secret` rotates (the previous one keeps signing for the grace period). */
  async update(id: string, patch: UpdateSubscription): Promise<SubscriptionView> {
    const lane = this.lane(id);
    const current = lane.subscription;
    this.assertEditable(current);
    const { secret, rateLimit, ...fields } = patch;
    const next: Subscription = { ...current, ...definedOnly(fields), updated: new Date().toISOString() };
    if (fields.filter !== undefined) next.filter = fields.filter;
    if (rateLimit === null) delete next.rateLimit;
    else if (rateLimit !== undefined) next.rateLimit = rateLimit;
    if (secret !== undefined) next.secrets = this.rotated(current, secret);
    this.assertPolicy(next);
    await this.replace(lane, next);
    return this.view(next);
  }

  /** A new generated secret, returned once; the previous one keeps signing for the grace period. */
  async rotateSecret(id: string): Promise<{ subscription: SubscriptionView; secret: string }> {
    const lane = this.lane(id);
    const secret = generateSecret();
    const next: Subscription = { ...lane.subscription, secrets: this.rotated(lane.subscription, secret), updated: new Date().toISOString() };
    await this.save(next);
    lane.update(next);
    return { subscription: this.view(next), secret };
  }

  async delete(id: string): Promise<void> {
    const lane = this.lane(id);
    this.assertEditable(lane.subscription);
    await lane.dispose();
    this.lanes.delete(id);
    await this.removeStored(lane.subscription);
  }

  /** Pauses (delivery stops; the backlog waits on disk) or resumes (also re-enables a disabled endpoint). */
  async setState(id: string, state: Exclude<SubscriptionState, 'disabled'>): Promise<SubscriptionView> {
    const lane = this.lane(id);
    const next: Subscription = { ...lane.subscription, state, updated: new Date().toISOString() };
    delete next.disabledReason;
    await this.save(next);
    lane.update(next);
    return this.view(next);
  }

  /**
   * Sends one signed test event (type `herald.test`, seq 0) to the endpoint now, whatever its
   * state: nothing is stored, and the lane's position, retries, breaker and history stay as they
   * are. For checking an endpoint and its signature check before (or without) real traffic.
   */
  async sendTest(id: string): Promise<TestDelivery> {
    const sub = this.lane(id).subscription;
    const now = Date.now();
    const time = new Date(now).toISOString();
    const eventId = randomUUID();
    const data = Buffer.from(JSON.stringify({ type: TEST_EVENT_TYPE, subscription: sub.id, stream: sub.stream, time }));
    const event = { stream: sub.stream, seq: 0, id: eventId, type: TEST_EVENT_TYPE, time, contentType: 'application/json', data };
    // The request's own deadline (the subscription's timeoutMs) bounds it; nothing cancels it early.
    const { status, error, latencyMs, body } = await this.sender.send(buildRequest(sub, event, signingKeys(sub, now), now), new AbortController().signal);
    return {
      eventId,
      delivered: isSuccess(sub, status),
      ...(status !== undefined ? { status } : {}),
      ...(error !== undefined ? { error } : {}),
      latencyMs,
      ...(body ? { response: body } : {}),
    };
  }

  attempts(id: string, limit?: number): AttemptRecord[] {
    return this.lane(id).attempts.list(limit);
  }

  deadLetters(id: string, options: { after?: number; limit?: number }): Promise<DeadLetter[]> {
    return this.laneState(this.lane(id).subscription).deadLetters(options);
  }

  /** Queues dead letters for redelivery: one seq, or all of them. Returns how many were queued. */
  async redrive(id: string, seq?: number): Promise<number> {
    const lane = this.lane(id);
    const state = this.laneState(lane.subscription);
    const letters = seq !== undefined ? [await state.deadLetter(seq)].filter((d): d is DeadLetter => d !== undefined) : await state.deadLetters({ limit: 1_000_000 });
    if (seq !== undefined && letters.length === 0) throw new HeraldError('not_found', `subscription ${id} has no dead letter at seq ${seq}`);
    for (const letter of letters) {
      if (letter.redrive) continue;
      await state.putDeadLetter(letter.seq, { ...letter, redrive: true });
      lane.redrive(letter.seq);
    }
    return letters.length;
  }

  /** Delivers again from a seq (or the first event at or after a time): the lane's position moves back (or forward). */
  async replay(id: string, from: { seq: number } | { time: string }): Promise<{ fromSeq: number }> {
    const lane = this.lane(id);
    const { stream } = lane.subscription;
    const fromSeq = 'seq' in from ? from.seq : await this.seqAtTime(stream, Date.parse(from.time));
    if ((await this.hub.getStream(stream)) === undefined) throw new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
    await lane.stop();
    await this.laneState(lane.subscription).reset(Math.max(0, fromSeq - 1));
    lane.start();
    return { fromSeq };
  }

  /**
   * On a shared store, other nodes create, change and delete subscriptions: start, restart or
   * stop lanes to match what is stored (the leases decide which node drives each lane).
   */
  private async sync(): Promise<void> {
    const stored = new Map((await this.hub.store.kvList<Subscription>(SUBSCRIPTIONS, { limit: 1_000_000 })).map((e) => [e.key, e.value]));
    for (const [id, lane] of this.lanes) {
      const sub = stored.get(id);
      if (sub === undefined) {
        this.lanes.delete(id);
        await lane.dispose();
      } else if (sub.updated !== lane.subscription.updated) {
        await this.adopt(lane, sub);
      }
    }
    for (const [id, sub] of stored) if (!this.lanes.has(id)) this.startLane(sub);
  }

  // ---- internals ----------------------------------------------------------------------------

  private lane(id: string): DeliveryLane {
    const lane = this.lanes.get(id);
    if (lane === undefined) throw new HeraldError('not_found', `no subscription ${JSON.stringify(id)}`);
    return lane;
  }

  private view(sub: Subscription): SubscriptionView {
    const lane = this.lanes.get(sub.id);
    const status = lane?.status() ?? { position: 0, head: 0, lag: 0, inFlight: 0, breaker: 'closed' as const, leader: false, delivered: 0, failed: 0, retried: 0, dropped: 0 };
    return { ...publicView(sub), status };
  }

  private laneState(sub: Subscription): LaneState {
    return new LaneState(this.hub.store, sub.id, sub.stream, (err) => this.log.error({ err, endpoint: sub.id }, 'saving a webhook position failed'));
  }

  private startLane(sub: Subscription): void {
    const lane = new DeliveryLane(sub, this.laneState(sub), {
      hub: this.hub,
      sender: this.sender,
      metrics: this.metrics,
      logger: this.log,
      settings: this.config.webhooks,
      holder: this.holder,
      disable: (id, reason) => this.disable(id, reason),
    });
    this.lanes.set(sub.id, lane);
    lane.start();
  }

  private async disable(id: string, reason: string): Promise<void> {
    const lane = this.lanes.get(id);
    if (lane === undefined) return;
    const next: Subscription = { ...lane.subscription, state: 'disabled', disabledReason: reason, updated: new Date().toISOString() };
    await this.save(next);
    lane.update(next);
    this.log.warn({ endpoint: id, reason }, 'webhook endpoint disabled');
  }

  /** Saves changed settings and applies them to the lane. */
  private async replace(lane: DeliveryLane, next: Subscription): Promise<void> {
    await this.save(next);
    await this.adopt(lane, next);
  }

  /** Applies changed settings; a changed filter, concurrency or policy needs a fresh lane. */
  private async adopt(lane: DeliveryLane, next: Subscription): Promise<void> {
    const prev = lane.subscription;
    if (JSON.stringify(prev.filter) !== JSON.stringify(next.filter) || prev.maxInFlight !== next.maxInFlight || prev.policy !== next.policy) {
      await lane.dispose();
      this.startLane(next);
    } else {
      lane.update(next);
    }
  }

  private build(id: string, input: CreateSubscription | DeclaredSubscription, secret: string, source: Subscription['source'], now: string): Subscription {
    const defaults = this.config.webhooks;
    const sub: Subscription = {
      id,
      stream: input.stream,
      url: input.url,
      filter: input.filter ?? {},
      secrets: [{ secret }],
      state: 'active',
      maxInFlight: input.maxInFlight ?? 1,
      timeoutMs: input.timeoutMs ?? defaults.timeoutMs,
      retrySchedule: input.retrySchedule ?? defaults.retrySchedule,
      policy: input.policy ?? 'durable',
      format: 'format' in input && input.format !== undefined ? input.format : 'standard',
      headers: input.headers ?? {},
      source,
      created: now,
      updated: now,
    };
    if (input.description !== undefined) sub.description = input.description;
    if (input.buffer !== undefined) sub.buffer = input.buffer;
    if (input.rateLimit !== undefined) sub.rateLimit = input.rateLimit;
    if (input.pipelining !== undefined) sub.pipelining = input.pipelining;
    this.assertPolicy(sub);
    return sub;
  }

  private assertPolicy(sub: Subscription): void {
    if (sub.policy === 'gosep' && sub.buffer === undefined) throw new HeraldError('bad_request', 'field "buffer": required with policy "gosep" (the number of waiting events kept)', { field: 'buffer' });
    if (sub.policy === 'durable' && sub.buffer !== undefined) throw new HeraldError('bad_request', 'field "buffer": only meaningful with policy "gosep"', { field: 'buffer' });
  }

  private assertEditable(sub: Subscription): void {
    if (sub.source !== 'api') throw new HeraldError('conflict', `subscription ${sub.id} is defined in the ${sub.source === 'config' ? 'config file (subscriptions)' : 'config file (gosep.queues)'}; change it there`);
  }

  private rotated(sub: Subscription, secret: string): Subscription['secrets'] {
    const now = Date.now();
    const expiresAt = new Date(now + this.config.webhooks.secretGraceMs).toISOString();
    const [current, ...older] = sub.secrets;
    const kept = older.filter((s) => s.expiresAt !== undefined && Date.parse(s.expiresAt) > now);
    return [{ secret }, ...(current !== undefined ? [{ secret: current.secret, expiresAt }] : []), ...kept];
  }

  /** Puts a new subscription's position where its `start` says. */
  private async setStart(sub: Subscription, start: 'now' | 'earliest' | number): Promise<void> {
    if ((await this.hub.getStream(sub.stream)) === undefined) return; // it starts at the stream's first event
    const seq = start === 'now' ? this.hub.store.head(sub.stream) : start === 'earliest' ? 0 : start;
    await this.hub.store.setPosition(sub.stream, `webhook:${sub.id}`, seq);
  }

  /** Brings a config-declared subscription into the store, keeping its position and runtime state. */
  private async syncDeclared(d: DeclaredSubscription, existing: Subscription | undefined): Promise<Subscription> {
    const now = new Date().toISOString();
    let secret = d.secret ?? existing?.secrets[0]?.secret;
    if (secret === undefined) {
      secret = generateSecret();
      this.log.warn({ endpoint: d.id, secret }, `subscription ${d.id} has no secret in the config; generated one (logged this once; put it in the config to keep it stable)`);
    }
    const sub = this.build(d.id, d, secret, d.source, existing?.created ?? now);
    if (existing !== undefined) {
      sub.state = existing.state === 'disabled' ? 'disabled' : existing.state;
      if (existing.disabledReason !== undefined) sub.disabledReason = existing.disabledReason;
      if (existing.stream !== sub.stream) await this.setStart(sub, d.start ?? 'now');
    } else {
      await this.setStart(sub, d.start ?? 'now');
    }
    await this.save(sub);
    return sub;
  }

  private async save(sub: Subscription): Promise<void> {
    await this.hub.store.kvWrite([{ collection: SUBSCRIPTIONS, key: sub.id, value: sub }]);
  }

  private async removeStored(sub: Subscription): Promise<void> {
    await this.hub.store.kvWrite([{ collection: SUBSCRIPTIONS, key: sub.id }]);
    await this.laneState(sub).destroy();
  }

  /** The seq of the first event stored at or after `time` (events are appended in time order). */
  private async seqAtTime(stream: string, time: number): Promise<number> {
    const info = await this.hub.getStream(stream);
    if (info === undefined) throw new HeraldError('stream_not_found', `stream ${JSON.stringify(stream)} does not exist`, { stream });
    let lo = info.firstSeq;
    let hi = info.lastSeq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const [event] = await this.hub.read(stream, { after: mid - 1, limit: 1 });
      if (event === undefined) {
        hi = mid;
      } else if (Date.parse(event.time) < time) {
        lo = event.seq + 1;
      } else {
        hi = Math.min(mid, event.seq);
      }
    }
    return lo;
  }
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
