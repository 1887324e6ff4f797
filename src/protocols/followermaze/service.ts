import type { HeraldConfig } from '../../config/schema.js';
import type { Hub } from '../../core/hub.js';
import type { Logger } from '../../observability/logger.js';
import { FollowerMaze } from './maze.js';
import { exposeMazeMetrics } from './metrics.js';
import { StreamMirror } from './mirror.js';
import { MazePersistence } from './persistence.js';

export type FollowerMazeConfig = HeraldConfig['followermaze'];

/** Appends in flight to the mirror stream before the sources are paused. */
const MIRROR_MAX_IN_FLIGHT = 4;

/**
 * The maze with what surrounds it: restoring and saving its state (`persist`), the stream
 * mirror (`stream`) and its metrics. Shared by the two listeners: the first to start opens it,
 * the event-source listener closes it once no source can send any more.
 */
export class FollowerMazeService {
  readonly maze: FollowerMaze;
  readonly mirror: StreamMirror | undefined;
  private readonly persistence: MazePersistence | undefined;
  private opening: Promise<void> | undefined;
  private unexpose: (() => void) | undefined;

  constructor(
    private readonly hub: Hub,
    readonly config: FollowerMazeConfig,
    readonly log: Logger,
  ) {
    this.maze = new FollowerMaze({
      logger: log,
      reorderWindow: config.reorderWindow,
      clientBufferBytes: config.clientBufferBytes,
      clientStallTimeoutMs: config.clientStallTimeoutMs,
      logIntervalMs: config.logIntervalMs,
    });
    if (config.persist) this.persistence = new MazePersistence(hub.store, this.maze, config.persistIntervalMs, log);
    if (config.stream !== undefined) {
      this.mirror = new StreamMirror(hub, config.stream, config.streamBatchSize, MIRROR_MAX_IN_FLIGHT, this.maze.gate, log);
      this.maze.observer = this.mirror;
    }
  }

  /** Restores saved state (once) and starts saving; both listeners await it before accepting. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      if (this.persistence !== undefined) {
        await this.persistence.load();
        this.persistence.start();
      }
      this.unexpose = exposeMazeMetrics(this.hub.metrics.registry, () => this.maze.stats());
    })();
    return this.opening;
  }

  /**
   * Called once the sources are closed: delivers what is left to the clients and the mirror,
   * then saves the final state.
   */
  async close(): Promise<void> {
    this.maze.close();
    await this.mirror?.drain();
    await this.persistence?.stop();
    this.unexpose?.();
    this.unexpose = undefined;
  }
}
