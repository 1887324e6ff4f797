import type { StoredEvent } from '../../core/event.js';
import { compilePattern, matchesAny } from '../../core/patterns.js';
import type { SubscriptionFilter } from './subscription.js';

export type EventMatcher = (event: StoredEvent) => boolean;

/** The subscription's filter as a predicate: every listed dimension must match one of its patterns. */
export function matchesFilter(filter: SubscriptionFilter): EventMatcher {
  const types = filter.types?.map(compilePattern);
  const subjects = filter.subjects?.map(compilePattern);
  if (types === undefined && subjects === undefined) return () => true;
  return (event) =>
    (types === undefined || matchesAny(types, event.type)) &&
    (subjects === undefined || (event.subject !== undefined && matchesAny(subjects, event.subject)));
}
