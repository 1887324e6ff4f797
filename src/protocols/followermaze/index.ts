import type { HeraldConfig } from '../../config/schema.js';
import type { Hub } from '../../core/hub.js';
import type { Listener } from '../../core/listener.js';
import type { Logger } from '../../observability/logger.js';
import { EventSourceListener, UserClientListener } from './listeners.js';
import type { FollowerMaze } from './maze.js';
import { FollowerMazeService } from './service.js';

export type { MazeStats } from './maze.js';
export { FollowerMazeService } from './service.js';

/** The follower-maze listener pair, sharing one maze (tests read its state through `maze`). */
export interface FollowerMazeListeners {
  /** The event source listener (`followermaze.eventPort`). */
  readonly events: Listener & { readonly port: number | undefined };
  /** The user client listener (`followermaze.clientPort`). */
  readonly clients: Listener & { readonly port: number | undefined };
  readonly maze: FollowerMaze;
  readonly service: FollowerMazeService;
}

/**
 * The follower-maze TCP server (docs/followermaze.md): an event source listener and a user
 * client listener around one maze. Start the event listener first: it restores saved state
 * (with `followermaze.persist`) before anything is accepted; stopping it saves the state.
 */
export function createFollowerMazeListeners(hub: Hub, config: HeraldConfig, logger: Logger): FollowerMazeListeners {
  const service = new FollowerMazeService(hub, config.followermaze, logger.child({ component: 'followermaze' }));
  return { events: new EventSourceListener(service), clients: new UserClientListener(service), maze: service.maze, service };
}

/** The two listeners, in start order, for `buildListeners`. */
export function followerMazeListeners(hub: Hub, config: HeraldConfig, logger: Logger): Listener[] {
  const { events, clients } = createFollowerMazeListeners(hub, config, logger);
  return [events, clients];
}
