/**
 * The life cycle every listener shares (DESIGN.md §5), so `herald serve` is a list of
 * listeners built from config.
 */
export interface Listener {
  /** "http", "eventbus", …: for logs and the dashboard. */
  readonly name: string;
  /** Resolves once the listener accepts connections. */
  start(): Promise<void>;
  /** Stops accepting, lets in-flight work finish, resolves once closed. */
  stop(): Promise<void>;
  /** The bound address, once started (`http://127.0.0.1:8000`, `tcp://127.0.0.1:8080`). */
  readonly url: string | undefined;
  /**
   * Open client connections, for the dashboard (`GET /system`). Optional: a listener that does
   * not count them leaves it undefined and the dashboard shows "–".
   */
  readonly connections?: number;
}
