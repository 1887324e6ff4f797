/** A compiled pattern; null matches everything. */
export type Matcher = RegExp | null;

/** `orders.*` → /^orders\..*$/: `*` matches any run of characters; `*` alone (or nothing) matches everything. */
export function compilePattern(pattern: string): Matcher {
  if (pattern === '' || /^\*+$/.test(pattern)) return null;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/** Whether any of the matchers accepts `value`. */
export function matchesAny(matchers: readonly Matcher[], value: string): boolean {
  for (const m of matchers) if (m === null || m.test(value)) return true;
  return false;
}
