// "Did you mean ...?" for mistyped names: the closest candidates by edit distance.

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/**
 * Up to `max` candidates close to `input`, closest first: those containing it (`refund` →
 * `refund-reversal`), then those a third of its length in edits away at most.
 */
export function closest(input: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.ceil(input.length / 3));
  return candidates
    .map((candidate) => ({ candidate, d: input.length >= 3 && candidate.includes(input) ? 0 : distance(input, candidate) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.candidate.localeCompare(y.candidate))
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

/** ` Did you mean a or b?` or nothing. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const near = closest(input, candidates);
  return near.length ? ` Did you mean ${near.join(' or ')}?` : '';
}
