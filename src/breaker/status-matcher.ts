/**
 * Compiles status specs (`503`, `5xx`, `500-504`), as validated by the config
 * schema, into one predicate. A status matches when any spec matches it.
 */
export function compileStatusMatcher(specs: readonly string[]): (status: number) => boolean {
  const ranges = specs.map(specToRange);

  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}

function specToRange(spec: string): [number, number] {
  if (spec.endsWith('xx')) {
    const hundreds = Number(spec[0]) * 100;
    return [hundreds, hundreds + 99];
  }

  const [low, high = low] = spec.split('-').map(Number);
  if (low === undefined || high === undefined || Number.isNaN(low) || Number.isNaN(high)) {
    throw new RangeError(`status spec "${spec}" is not 503, 5xx or 500-504`);
  }
  return [low, high];
}
