import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` the summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }>;
  samples: number[];
  timeDeltas: number[];
  /** Monotonic clock, microseconds (the clock `process.hrtime` reads). */
  startTime: number;
}

/** A window of the monotonic clock (`process.hrtime.bigint() / 1000n`), microseconds. */
export interface SampleWindow {
  readonly fromMicros: number;
  readonly toMicros: number;
}

/** One function's share of the samples. */
export interface HotSpot {
  /** Function name, or V8's `(garbage collector)`, `(program)`, `(idle)`. */
  readonly name: string;
  /** `file:line`, mapped to the TypeScript source when a source map is beside the code. */
  readonly location: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time, 0–1. */
  readonly selfShare: number;
}

/** Self time of a profile, by function and by file. */
export interface ProfileSummary {
  readonly busyMs: number;
  readonly functions: readonly HotSpot[];
  readonly files: ReadonlyArray<{ file: string; selfMs: number; selfShare: number }>;
}

const sourceMaps = new Map<string, SourceMap | undefined>();

function sourceMapOf(file: string): SourceMap | undefined {
  if (!sourceMaps.has(file)) {
    const mapFile = `${file}.map`;
    const payload = existsSync(mapFile)
      ? (JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload)
      : undefined;
    sourceMaps.set(file, payload && new SourceMap(payload));
  }
  return sourceMaps.get(file);
}

/**
 * `file:line` (1-based) relative to `root`, with compiled tollgate code mapped
 * back to its `.ts` source; dependencies keep their `node_modules` path.
 */
function locate(url: string, line: number, column: number, root: string): string {
  if (url === '') return '(native)';
  if (!url.startsWith('file://')) return `${url}:${line + 1}`;

  const file = fileURLToPath(url);
  const entry = file.includes(`${path.sep}node_modules${path.sep}`)
    ? undefined
    : (sourceMapOf(file)?.findEntry(line, column) as
        { originalSource?: string; originalLine?: number } | undefined);
  if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
    const original = entry.originalSource;
    const source = original.startsWith('file://')
      ? fileURLToPath(original)
      : path.resolve(path.dirname(file), original);
    return `${path.relative(root, source)}:${entry.originalLine + 1}`;
  }
  return `${path.relative(root, file)}:${line + 1}`;
}

/** The file part of a location, with node_modules paths cut to the package. */
function fileOf(location: string): string {
  const file = location.replace(/:\d+$/, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules < 0) return file;

  const rest = file.slice(modules + 'node_modules/'.length).split('/');
  const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  return `${name} (${rest.slice(name?.includes('/') ? 2 : 1).join('/')})`;
}

/**
 * Sums a `.cpuprofile`'s samples into self time per function and per file,
 * largest first; only samples inside `window` count when it is given (so that
 * start-up and warm-up can be left out).
 */
export function summariseCpuProfile(
  profileFile: string,
  root: string,
  window?: SampleWindow,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const selfMicros = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.fromMicros || at > window.toMicros)) return;
    selfMicros.set(nodeId, (selfMicros.get(nodeId) ?? 0) + delta);
  });

  const byFunction = new Map<string, { name: string; location: string; micros: number }>();
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const location = locate(url, lineNumber, columnNumber, root);
    const name = functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const entry = byFunction.get(key) ?? { name, location, micros: 0 };
    entry.micros += micros;
    byFunction.set(key, entry);
  }

  const idle = [...byFunction.values()].find((entry) => entry.name === '(idle)')?.micros ?? 0;
  const total = [...byFunction.values()].reduce((sum, entry) => sum + entry.micros, 0);
  const busy = Math.max(total - idle, 1);

  const functions = [...byFunction.values()]
    .filter((entry) => entry.name !== '(idle)')
    .sort((a, b) => b.micros - a.micros)
    .map((entry) => ({
      name: entry.name,
      location: entry.location,
      selfMs: entry.micros / 1000,
      selfShare: entry.micros / busy,
    }));

  const byFile = new Map<string, number>();
  for (const spot of functions) {
    const file = fileOf(spot.location);
    byFile.set(file, (byFile.get(file) ?? 0) + spot.selfMs);
  }
  const files = [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([file, selfMs]) => ({ file, selfMs, selfShare: (selfMs * 1000) / busy }));

  return { busyMs: busy / 1000, functions, files };
}
