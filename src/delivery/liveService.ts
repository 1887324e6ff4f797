import type { StoredEvent } from '../core/event.js';
import type { Hub } from '../core/hub.js';
import type { HeraldConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { FanoutRegistry } from './fanout.js';
import { LiveMetrics } from './liveMetrics.js';
import { LiveConnections, LiveSession, type LiveTransport } from './liveSession.js';

/**
 * What the SSE route and the WebSocket upgrade share on one HTTP listener: the per-stream
 * fan-outs, the set of open connections (heartbeats, shutdown) and the metrics.
 */
export class LiveService {
  readonly fanouts: FanoutRegistry;
  readonly connections: LiveConnections;
  readonly metrics: LiveMetrics;

  constructor(
    readonly hub: Hub,
    readonly config: HeraldConfig['live'],
    private readonly log: Logger,
  ) {
    this.fanouts = new FanoutRegistry(hub);
    this.connections = new LiveConnections(config.heartbeatMs);
    this.metrics = LiveMetrics.of(hub.metrics.registry);
  }

  /**
   * Retention had removed this many of the requested events already: the first stored seq
   * minus one, minus the requested position (0 when nothing is missing).
   */
  async missedAtStart(stream: string, after: number | undefined): Promise<number> {
    if (after === undefined) return 0;
    const info = await this.hub.getStream(stream);
    return info === undefined ? 0 : Math.max(0, info.firstSeq - 1 - after);
  }

  /**
   * Starts a session on an opened transport: replay from `after`, then live. `closed` must be
   * called by the transport's owner once the connection is gone.
   */
  open(stream: string, after: number, filter: ((e: StoredEvent) => boolean) | undefined, transport: LiveTransport): { session: LiveSession; closed: () => void } {
    const session = new LiveSession(
      { hub: this.hub, fanouts: this.fanouts, metrics: this.metrics, replayBatchEvents: this.config.replayBatchEvents, maxBufferedBytes: this.config.maxBufferedBytes },
      stream,
      after,
      filter,
      transport,
    );
    this.connections.add(session);
    this.metrics.opened(transport.protocol);
    let done = false;
    const closed = (): void => {
      if (done) return;
      done = true;
      this.connections.delete(session);
      this.metrics.closed(transport.protocol);
      session.close('peer');
    };
    session.start().catch((err: unknown) => {
      this.log.error({ err, stream, protocol: transport.protocol }, 'live connection failed');
    });
    return { session, closed };
  }

  /** Closes every live connection and stops the fan-outs (listener shutdown). */
  close(): void {
    this.connections.closeAll();
    this.fanouts.close();
  }
}
