/** The error every write to a closed sink rejects with (go-events' ErrSinkClosed). Terminal. */
export class SinkClosedError extends Error {
  /** The message, as in go-events. */
  static readonly MESSAGE = 'events: sink closed';

  constructor() {
    super(SinkClosedError.MESSAGE);
    this.name = 'SinkClosedError';
  }
}
