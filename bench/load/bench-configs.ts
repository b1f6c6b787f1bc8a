import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

import { parseConfigText } from '../../src/config/load-config.js';

/**
 * The folder of tollgate configurations the load bench measures: the source
 * tree's `bench/configs/`, found from the compiled file (`<outDir>/bench/load/`).
 */
export const BENCH_CONFIG_DIR = fileURLToPath(new URL('../../../bench/configs/', import.meta.url));

/**
 * One tollgate configuration to measure: a YAML file under `bench/configs/`
 * whose `x-bench` key (ignored by tollgate, as every top-level `x-` key is)
 * says how the bench treats it.
 */
export interface BenchConfig {
  /** The file name without `.yaml`; what `--config` selects. */
  readonly name: string;
  /** The label in the table. */
  readonly title: string;
  readonly file: string;
  /** Position in the table. */
  readonly order: number;
  /** A `redis-server` must run; its URL replaces `${REDIS_URL}`. */
  readonly needsRedis: boolean;
  /** The config uses `budgets:`, which older builds reject. */
  readonly needsBudgets: boolean;
}

interface BenchKey {
  title?: string;
  order?: number;
  needs_redis?: boolean;
  needs_budgets?: boolean;
}

/** Every configuration in `dir`, in table order. */
export function listBenchConfigs(dir = BENCH_CONFIG_DIR): BenchConfig[] {
  const files = readdirSync(dir).filter((file) => file.endsWith('.yaml'));

  return files
    .map((file) => {
      const full = path.join(dir, file);
      const bench = ((parse(readFileSync(full, 'utf8')) as Record<string, unknown> | null)?.[
        'x-bench'
      ] ?? {}) as BenchKey;
      const name = file.slice(0, -'.yaml'.length);
      return {
        name,
        title: bench.title ?? name,
        file: full,
        order: bench.order ?? 100,
        needsRedis: bench.needs_redis === true,
        needsBudgets: bench.needs_budgets === true,
      };
    })
    .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** Values substituted into a configuration before it is used. */
export interface ConfigPlaceholders {
  /** A temporary folder, for `${BENCH_TMP}` (store files). */
  readonly benchTmp: string;
  /** The Redis URL, for `${REDIS_URL}`. */
  readonly redisUrl?: string;
}

/** A configuration ready to start, or why it is skipped. */
export type PreparedConfig =
  { readonly ok: true; readonly file: string } | { readonly ok: false; readonly reason: string };

/**
 * Fills the placeholders, writes the result to `benchTmp`, and validates it
 * with tollgate's own config loader. A budget configuration this build's
 * schema rejects is skipped (the budget work may not have landed); any other
 * invalid configuration is a bench bug and throws.
 */
export function prepareConfig(config: BenchConfig, values: ConfigPlaceholders): PreparedConfig {
  const text = readFileSync(config.file, 'utf8')
    .replaceAll('${BENCH_TMP}', values.benchTmp)
    .replaceAll('${REDIS_URL}', values.redisUrl ?? 'redis://127.0.0.1:1');
  const file = path.join(values.benchTmp, `${config.name}.yaml`);
  writeFileSync(file, text);

  const result = parseConfigText(text, file);
  if (result.ok) return { ok: true, file };

  const problems = result.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  if (config.needsBudgets) {
    return {
      ok: false,
      reason: `this build's config schema does not accept its budget settings yet (${problems})`,
    };
  }
  throw new Error(`bench config ${config.file} is invalid: ${problems}`);
}
