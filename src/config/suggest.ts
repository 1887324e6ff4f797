/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two
 * adjacent characters each count one (Levenshtein with transpositions, "optimal string
 * alignment"), so `prot` is one edit from `port`.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

const normalise = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The candidate closest to `input`, when it is close enough to be a likely typo: the same name
 * in another case or spelling (`body_limit` → `bodyLimit`), or within an edit distance of about a
 * third of its length (at least 1, at most 3).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const wanted = normalise(input);
  for (const candidate of candidates) {
    if (normalise(candidate) === wanted) return candidate;
    const distance = editDistance(wanted, normalise(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}
