/** One thing wrong with a config file, located as precisely as the parser can. */
export interface ConfigProblem {
  /** Dotted path of the offending key, e.g. `circuit_breakers.defaults.timeout_seconds`. */
  path: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** What is wrong and what was expected. */
  message: string;
}

/**
 * A config file that cannot be used. Carries every problem found, so that an
 * operator fixes the file in one pass rather than one error per restart.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(file, problems));
  }
}

/** Type guard that survives module duplication (checks the name, not the prototype). */
export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof Error && value.name === 'ConfigError';
}

/** One readable block: the file, then each problem on its own line with its location. */
export function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((problem) => {
    const where = problem.line === undefined ? '' : `line ${problem.line}: `;
    const path = problem.path === '' ? '' : `${problem.path}: `;
    return `  ${where}${path}${problem.message}`;
  });

  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return `config ${file} was not loaded (${count}):\n${lines.join('\n')}`;
}
