import { isHeraldError } from '../../core/errors.js';
import type { Logger } from '../../observability/logger.js';
import { notFoundEvent, notFoundStream, streamExists } from './replies.js';

/** How a failed request is counted in `herald_eventbus_requests_total{outcome}`. */
export type Outcome = 'ok' | 'invalid' | 'unauthorized' | 'not_found' | 'exists' | 'error';

export interface Failure {
  reason: string;
  outcome: Outcome;
}

/**
 * The one place where Herald's errors become event-bus `reason` strings (DESIGN.md §7). The
 * original's texts where it has one (compat.md §3); otherwise Herald's own message, which says
 * what went wrong (a closed or failing store).
 */
export function toFailure(err: unknown, subject: { stream?: string; eventId?: string }, log: Logger): Failure {
  if (isHeraldError(err)) {
    switch (err.code) {
      case 'stream_not_found':
      case 'invalid_stream_name':
        return { reason: notFoundStream(subject.stream ?? ''), outcome: 'not_found' };
      case 'stream_exists':
        return { reason: streamExists(subject.stream ?? ''), outcome: 'exists' };
      case 'not_found':
        return { reason: notFoundEvent(subject.eventId ?? ''), outcome: 'not_found' };
      default:
        return { reason: err.message, outcome: 'error' };
    }
  }
  log.error({ err }, 'event-bus request failed');
  return { reason: `internal error: ${err instanceof Error ? err.message : String(err)}`, outcome: 'error' };
}
