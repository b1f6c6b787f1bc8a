import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

import { systemClock, type Clock } from '../time/clock.js';
import type { ConfigProblem } from './config-error.js';
import { parseConfigText } from './load-config.js';
import { readConfigForReload } from './reload-read.js';
import type { TollgateConfig } from './tollgate-config.js';

/** What asked for a reload: the file watcher or SIGHUP (or a caller such as a test). */
export type ReloadTrigger = 'watch' | 'signal' | 'manual';

/** The metric label of a finished reload. */
export type ReloadResult = 'success' | 'failure' | 'unchanged';

/**
 * How one reload attempt ended. `deferred` is a failure the caller asked to
 * keep quiet (see {@link ReloadRequest.deferFailure}): nothing was logged,
 * counted or recorded, and the old config keeps serving.
 */
export type ReloadOutcome =
  | { readonly result: 'success'; readonly version: string }
  | { readonly result: 'unchanged'; readonly version: string }
  | { readonly result: 'failure' | 'deferred'; readonly problems: readonly ConfigProblem[] };

/** Options of one {@link ReloadController.reload} call. */
export interface ReloadRequest {
  readonly trigger?: ReloadTrigger;

  /**
   * Report nothing if the file is bad. The watcher sets it for the first
   * attempt after a change, because the file may be caught half-written; it
   * tries again once writes have settled, and only that attempt counts.
   */
  readonly deferFailure?: boolean;
}

/** A failed reload, as shown on /status. */
export interface ReloadError {
  /** Wall-clock time of the attempt, ISO 8601. */
  readonly at: string;
  readonly trigger: ReloadTrigger;
  readonly problems: readonly ConfigProblem[];
}

/** What /status shows about reloads. */
export interface ReloadStatus {
  readonly file: string;
  /** Version (content hash) of the config serving now: the last good file. */
  readonly version: string;
  /** When that config was applied (start-up or the last successful reload), ISO 8601. */
  readonly appliedAt: string;
  /** The last failed reload, kept after later successes so that it can be inspected. */
  readonly lastError: ReloadError | null;
  /** Finished reloads since start, by result. */
  readonly reloads: Readonly<Record<ReloadResult, number>>;
}

/** What a {@link ReloadController} needs. */
export interface ReloadControllerOptions {
  /** The config file, as given at start-up. */
  readonly file: string;
  /** The config that start-up applied. */
  readonly initial: TollgateConfig;
  /**
   * Makes a validated config live. Called only with a config that passed
   * every check; a throw (or rejection) counts as a failed reload and the
   * old config keeps serving.
   */
  readonly apply: (config: TollgateConfig) => void | Promise<void>;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly clock?: Clock;
}

const RELOADS_METRIC = 'tollgate_config_reloads_total';
const RESULTS: readonly ReloadResult[] = ['success', 'failure', 'unchanged'];

/**
 * Re-reads the config file and swaps in a new config only when the file is
 * valid as a whole. A bad file is one error log line listing every problem
 * with its path and line, a `tollgate_config_reloads_total{result="failure"}`
 * count and an entry on /status, while the old config keeps serving. A file
 * whose content equals the running config's is not applied again.
 *
 * Reloads run one at a time, in the order asked for.
 */
export class ReloadController {
  private readonly clock: Clock;
  private readonly reloads: Counter<'result'>;
  private readonly counts: Record<ReloadResult, number> = { success: 0, failure: 0, unchanged: 0 };
  private version: string;
  private appliedAtMs: number;
  private lastError: ReloadError | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ReloadControllerOptions) {
    this.clock = options.clock ?? systemClock;
    this.version = options.initial.source.version;
    this.appliedAtMs = this.clock.wallMs();
    this.reloads = reloadsCounter(options.metrics);
  }

  /** Reads, checks and (if valid and changed) applies the file. Never rejects. */
  reload(request: ReloadRequest = {}): Promise<ReloadOutcome> {
    const attempt = this.queue.then(() => this.attempt(request));
    this.queue = attempt;
    return attempt;
  }

  /** The running config's version and time, and the last error. */
  status(): ReloadStatus {
    return {
      file: this.options.file,
      version: this.version,
      appliedAt: new Date(this.appliedAtMs).toISOString(),
      lastError: this.lastError,
      reloads: { ...this.counts },
    };
  }

  private async attempt(request: ReloadRequest): Promise<ReloadOutcome> {
    try {
      return await this.readAndApply(request);
    } catch (error) {
      // parseConfigText reports bad input as values; reaching here is a bug,
      // and the old config must keep serving all the same.
      const message = `reload failed inside tollgate: ${(error as Error).message}`;
      return this.fail([{ path: '', message }], { ...request, deferFailure: false });
    }
  }

  private async readAndApply(request: ReloadRequest): Promise<ReloadOutcome> {
    const trigger = request.trigger ?? 'manual';
    const { file, logger } = this.options;

    const read = await readConfigForReload(file);
    if (!read.ok) return this.fail(read.problems, request);
    if (read.version === this.version) {
      this.count('unchanged');
      // An operator who sent SIGHUP deserves an answer; the watcher's
      // unchanged saves (an editor touching the file) stay at debug.
      const level = trigger === 'signal' ? 'info' : 'debug';
      logger[level](
        { config: file, version: read.version, trigger },
        'config file unchanged; nothing to reload',
      );
      return { result: 'unchanged', version: read.version };
    }

    const parsed = parseConfigText(read.text, file);
    if (!parsed.ok) return this.fail(parsed.problems, request);

    try {
      await this.options.apply(parsed.config);
    } catch (error) {
      const message = `the new config could not be applied: ${(error as Error).message}`;
      return this.fail([{ path: '', message }], request);
    }

    const previous = this.version;
    this.version = parsed.config.source.version;
    this.appliedAtMs = this.clock.wallMs();
    this.count('success');
    logger.info({ config: file, version: this.version, previous, trigger }, 'config reloaded');
    for (const warning of parsed.warnings) logger.warn({ config: file }, warning);
    return { result: 'success', version: this.version };
  }

  private fail(problems: readonly ConfigProblem[], request: ReloadRequest): ReloadOutcome {
    if (request.deferFailure) return { result: 'deferred', problems };

    const trigger = request.trigger ?? 'manual';
    const { file, logger } = this.options;
    this.lastError = { at: new Date(this.clock.wallMs()).toISOString(), trigger, problems };
    this.count('failure');

    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    logger.error(
      { config: file, trigger, version: this.version, problems },
      `config ${file} was not reloaded (${count}): ${problems.map(describe).join('; ')}; ` +
        `the running config (version ${this.version}) keeps serving`,
    );
    return { result: 'failure', problems };
  }

  private count(result: ReloadResult): void {
    this.counts[result] += 1;
    this.reloads.inc({ result });
  }
}

function describe(problem: ConfigProblem): string {
  const where = problem.line === undefined ? '' : `line ${problem.line}: `;
  const path = problem.path === '' ? '' : `${problem.path}: `;
  return `${where}${path}${problem.message}`;
}

/** The reloads counter, registered once per metrics registry however many controllers exist. */
function reloadsCounter(metrics: Registry): Counter<'result'> {
  const existing = metrics.getSingleMetric(RELOADS_METRIC);
  if (existing instanceof Counter) return existing as Counter<'result'>;

  const counter = new Counter({
    name: RELOADS_METRIC,
    help: 'Config file reloads, by result: success, failure (old config kept) or unchanged',
    labelNames: ['result'] as const,
    registers: [metrics],
  });
  for (const result of RESULTS) counter.inc({ result }, 0);
  return counter;
}
