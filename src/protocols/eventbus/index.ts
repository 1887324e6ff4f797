/** The event-bus TCP protocol (issue 5, compat.md §3, docs/eventbus.md). */
export { createEventBusListener, EventBusListener } from './server.js';
export {
  EventBusClient,
  EventBusError,
  type EventBusCredentials,
  type EventBusEvent,
  type EventBusResponse,
  type EventBusStatus,
  type EventBusStream,
} from './client.js';
