import { resolve } from 'node:path';
import type { HeraldConfig } from './config/schema.js';
import { Hub } from './core/hub.js';
import type { Listener } from './core/listener.js';
import { HeraldMetrics } from './observability/metrics.js';
import { silentLogger, type Logger } from './observability/logger.js';
import { createEventBusListener } from './protocols/eventbus/index.js';
import { createEventPiperListener } from './protocols/eventpiper/index.js';
import { followerMazeListeners } from './protocols/followermaze/index.js';
import { assertSafeBind, createHttpListener } from './protocols/http/index.js';
import { createStore } from './store/index.js';
import { redactUrl } from './store/postgres/clients.js';
import { WebhookService } from './delivery/webhooks/service.js';

/**
 * A whole Herald server assembled from a config: store → hub → listeners, and the ordered
 * shutdown. `herald serve` is a thin wrapper around it; tests and benchmarks start hubs
 * in-process with it.
 */

export interface ServerOptions {
  /** Metrics registry (default: a fresh one with process metrics). */
  metrics?: HeraldMetrics;
}

export interface RunningServer {
  readonly config: HeraldConfig;
  readonly hub: Hub;
  /** Webhook delivery, when enabled. */
  readonly webhooks: WebhookService | undefined;
  /** The started listeners, in start order. */
  readonly listeners: readonly Listener[];
  /** The listener named `name` ("http"), if it runs. */
  listener(name: string): Listener | undefined;
  /**
   * Stops the listeners (each stops accepting and finishes its in-flight requests), then closes
   * the hub (which commits every pending append and closes the store). Safe to call twice.
   */
  stop(): Promise<void>;
}

/** Components beside the hub that listeners serve (started before them, stopped after them). */
export interface Services {
  webhooks?: WebhookService | undefined;
}

/** The listeners a config enables, not yet started. */
export function buildListeners(hub: Hub, config: HeraldConfig, logger: Logger, services: Services = {}): Listener[] {
  const listeners: Listener[] = [];
  if (config.http.enabled) listeners.push(createHttpListener(hub, config, logger, { webhooks: services.webhooks, listeners }));
  if (config.eventbus.enabled) listeners.push(createEventBusListener(hub, config, logger));
  if (config.followermaze.enabled) listeners.push(...followerMazeListeners(hub, config, logger));
  if (config.eventpiper.database !== undefined) listeners.push(createEventPiperListener(hub, config, logger));
  return listeners;
}

/** A line naming the store: `lmdb store at /var/lib/herald`. */
export function describeStore(config: HeraldConfig): { kind: string; path?: string; message: string } {
  const store = config.store;
  switch (store.type) {
    case 'lmdb': {
      const path = resolve(store.path);
      return { kind: 'lmdb', path, message: `lmdb store at ${path}` };
    }
    case 'memory':
      return { kind: 'memory', message: `memory store (at most ${store.maxEventsPerStream} events per stream; nothing survives a restart)` };
    case 'postgres':
      return { kind: 'postgres', path: redactUrl(store.url), message: `postgres store at ${redactUrl(store.url)} (schema ${store.schema})` };
  }
}

async function stopListeners(listeners: readonly Listener[], logger: Logger): Promise<void> {
  const results = await Promise.allSettled(listeners.map((l) => l.stop()));
  results.forEach((r, i) => {
    if (r.status === 'rejected') logger.error({ err: r.reason, listener: listeners[i]!.name }, `stopping the ${listeners[i]!.name} listener failed`);
  });
}

/**
 * Opens the store, starts the hub and every enabled listener, and logs one line per listener
 * (with its URL) and one naming the store (the HTTP listener itself warns when no access
 * tokens are configured). Refuses (before opening anything) to bind the HTTP
 * API beyond loopback without tokens unless `http.insecure`. On a start-up failure everything
 * already started is stopped again before the error is rethrown.
 */
export async function startServer(config: HeraldConfig, logger: Logger = silentLogger(), options: ServerOptions = {}): Promise<RunningServer> {
  if (config.http.enabled) assertSafeBind(config);
  const log = logger.child({ component: 'server' });
  const store = createStore(config.store, config.retention.default, logger);
  const hub = new Hub({
    store,
    metrics: options.metrics ?? new HeraldMetrics(),
    logger,
    createStreamsOnPublish: config.http.createStreamsOnPublish,
    retentionIntervalMs: config.retention.intervalMs,
  });
  await hub.start();
  const storeInfo = describeStore(config);
  log.info({ store: storeInfo.kind, ...(storeInfo.path !== undefined ? { path: storeInfo.path } : {}) }, storeInfo.message);

  const started: Listener[] = [];
  let webhooks: WebhookService | undefined;
  try {
    if (config.webhooks.enabled) {
      webhooks = new WebhookService(hub, config, logger);
      await webhooks.start();
    }
    for (const listener of buildListeners(hub, config, logger, { webhooks })) {
      await listener.start();
      started.push(listener);
      log.info({ listener: listener.name, url: listener.url }, `${listener.name} listening on ${listener.url}`);
    }
  } catch (err) {
    await stopListeners([...started].reverse(), log);
    await webhooks?.stop();
    await hub.close();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    hub,
    webhooks,
    listeners: started,
    listener: (name) => started.find((l) => l.name === name),
    stop() {
      stopping ??= (async () => {
        await stopListeners([...started].reverse(), log);
        await webhooks?.stop();
        await hub.close();
      })();
      return stopping;
    },
  };
}
