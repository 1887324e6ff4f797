import { api, type EventbusCounts } from './api.js';
import { usePoll } from './usePoll.js';

/** Event-bus streams: each stream's events by status (GET /eventbus/streams). */
export function EventbusPage() {
  const counts = usePoll(() => api<{ streams: EventbusCounts[] }>('GET', '/eventbus/streams').then((r) => r.streams), 2000);
  return (
    <section aria-labelledby="eventbus-h">
      <h1 id="eventbus-h">Event-bus streams</h1>
      <p class="muted">Each event's event-bus status: 0 unprocessed, 1 processed, 2 retry (docs/eventbus.md).</p>
      {counts.error && <p role="alert">{counts.error}</p>}
      <table aria-labelledby="eventbus-h" data-testid="eventbus-table">
        <thead><tr><th scope="col">Stream</th><th scope="col">Stream id</th><th scope="col">Events</th><th scope="col">Unprocessed</th><th scope="col">Processed</th><th scope="col">Retry</th></tr></thead>
        <tbody>
          {(counts.data ?? []).map((s) => (
            <tr key={s.id}><th scope="row">{s.eventbusName}</th><td><code>{s.id}</code></td><td>{s.events}</td><td>{s.unprocessed}</td><td>{s.processed}</td><td>{s.retry}</td></tr>
          ))}
          {counts.data?.length === 0 && <tr><td colSpan={6}>No streams.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
