/**
 * A Sink accepts events. It is the one interface of herald/sinks: every piece (Broadcaster,
 * Queue, RetryingSink, …) is a Sink that usually writes to another Sink.
 *
 * `write` resolves once the sink has accepted the event (what "accepted" means is the sink's
 * contract: handed on, queued, or delivered) and rejects when it could not. Once closed, a sink
 * rejects every write with SinkClosedError; that state is terminal.
 */
export interface Sink<E = unknown> {
  /** Writes one event; rejects with SinkClosedError once the sink is closed. */
  write(event: E): Promise<void>;
  /** Closes the sink, releasing its resources; a second close resolves. */
  close(): Promise<void>;
}
