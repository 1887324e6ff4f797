import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Hub } from '../../src/core/hub.js';
import { Registry } from 'prom-client';
import { WebhookMetrics } from '../../src/delivery/webhooks/metrics.js';
import { WebhookService } from '../../src/delivery/webhooks/service.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { eventually, startReceiver, type Receiver } from './helpers.js';

/** A memory store that says other processes share it: what a postgres store says. */
class SharedMemoryStore extends MemoryStore {
  readonly shared = true;
}

describe('webhook lanes on a shared store (two services standing in for two nodes)', () => {
  let receiver: Receiver;
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('picks up subscriptions made elsewhere, drives each lane from one node, and fails over when its node stops', async () => {
    receiver = await startReceiver();
    stops.push(() => receiver.close());
    const hub = new Hub({ store: new SharedMemoryStore(), retentionIntervalMs: 0 });
    await hub.start();
    stops.push(() => hub.close());
    const config = configSchema.parse({ webhooks: { leaseMs: 1000, syncIntervalMs: 100 } });
    const a = new WebhookService(hub, config, silentLogger());
    const b = new WebhookService(hub, config, silentLogger(), new WebhookMetrics(new Registry()));
    await a.start();
    await b.start();
    let aRunning = true;
    stops.push(() => b.stop(), async () => void (aRunning && (await a.stop())));

    const { subscription } = await a.create({ stream: 's', url: receiver.url, start: 'earliest' });
    await eventually(() => b.list().length === 1, 5000, 'node b to see the subscription');
    for (let n = 1; n <= 20; n++) await hub.publish({ stream: 's', data: Buffer.from(JSON.stringify({ n })), contentType: 'application/json' });
    await receiver.waitFor(20);
    const leaders = [a.get(subscription.id).status.leader, b.get(subscription.id).status.leader];
    expect(leaders.filter(Boolean)).toHaveLength(1);
    const leader = leaders[0] ? a : b;
    const other = leader === a ? b : a;

    // The change made on one node reaches the other.
    await leader.setState(subscription.id, 'paused');
    await eventually(() => other.get(subscription.id).state === 'paused', 5000, 'pause to reach the other node');
    await leader.setState(subscription.id, 'active');
    await eventually(() => other.get(subscription.id).state === 'active', 5000, 'resume to reach the other node');

    // The leading node goes away: the other takes the lane over within the lease time.
    if (leader === a) aRunning = false;
    await leader.stop();
    for (let n = 21; n <= 30; n++) await hub.publish({ stream: 's', data: Buffer.from(JSON.stringify({ n })), contentType: 'application/json' });
    const seen = (): Set<number> => new Set(receiver.received.map((r) => JSON.parse(r.body.toString()).n as number));
    await eventually(() => seen().size === 30, 5000, 'every event at least once'); // duplicates allowed: at least once
    expect(other.get(subscription.id).status.leader).toBe(true);

    // A deletion on one node stops the lane on the other.
    if (other !== a || aRunning) await other.delete(subscription.id);
    expect(other.list()).toHaveLength(0);
  });
});
