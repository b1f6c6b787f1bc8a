/** Something with an admin port to scrape. */
interface Scrapable {
  admin(path: string): Promise<{ status: number; text: string }>;
}

/**
 * Reads one sample from `/metrics`: `name` with exactly these labels (in any
 * order). Returns undefined when the sample is absent.
 */
export async function metricValue(
  target: Scrapable,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const { text } = await target.admin('/metrics');
  return sampleValue(text, name, labels);
}

/** Finds one sample in Prometheus text exposition. */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');

  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;

    const found = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (found === wanted) return Number(match[3]);
  }
  return undefined;
}
