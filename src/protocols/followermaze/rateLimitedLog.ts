import type { Logger } from '../../observability/logger.js';

/**
 * Logs a recurring problem at most once per interval: a source sending nothing but malformed
 * lines must not turn into a log line per line. The next line after a quiet spell says how many
 * were left out.
 */
export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly level: 'warn' | 'info' | 'debug',
    private readonly intervalMs: number,
  ) {}

  /** Logs `message` with `fields` unless another was logged less than the interval ago. */
  log(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = now;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.logger[this.level]({ ...fields, ...extra }, message);
  }
}
