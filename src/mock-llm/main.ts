import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';

import { DEFAULT_MODELS } from './mock-llm-settings.js';
import { startMockLlm, type MockLlmOptions } from './mock-llm-server.js';

/**
 * `npm run mock-llm -- [flags]`: the mock LLM backend as a process, for
 * docker-compose and for trying tollgate by hand. Not part of tollgate: its
 * main never loads this folder.
 */

interface Flags {
  host: string;
  port: number;
  latencyMs?: number;
  chunkIntervalMs?: number;
  failureRate?: number;
  failureStatus?: number;
  queueDepth?: number;
  coldStartMs?: number;
  idleTimeoutMs?: number;
  outputTokens?: number;
  models: string;
  seed: number;
  logLevel: string;
}

function wholeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError('expected a whole number, 0 or more');
  }
  return number;
}

function fraction(value: string): number {
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) {
    throw new InvalidArgumentError('expected a number from 0 to 1');
  }
  return number;
}

function parseFlags(argv: string[]): Flags {
  return new Command('mock-llm')
    .description('OpenAI- and Anthropic-compatible mock LLM backend for trying tollgate')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port', wholeNumber, 8000)
    .option('--latency-ms <ms>', 'wait before each answer', wholeNumber)
    .option('--chunk-interval-ms <ms>', 'wait between streamed events', wholeNumber)
    .option('--failure-rate <0-1>', 'fraction of requests that fail', fraction)
    .option('--failure-status <5xx>', 'HTTP status of a failure (default 500)', wholeNumber)
    .option('--queue-depth <n>', 'queue depth reported besides requests in flight', wholeNumber)
    .option('--cold-start-ms <ms>', 'extra wait of the first request after idle', wholeNumber)
    .option('--idle-timeout-ms <ms>', 'idle time after which it is cold again', wholeNumber)
    .option('--output-tokens <n>', 'completion tokens when a request sets no max', wholeNumber)
    .option('--models <list>', 'comma-separated models served', DEFAULT_MODELS.join(','))
    .option('--seed <n>', 'seed of the failure-rate random source', wholeNumber, 1)
    .option('--log-level <level>', 'pino level', 'info')
    .showHelpAfterError()
    .parse(argv)
    .opts<Flags>();
}

async function main(): Promise<void> {
  const { host, port, models, logLevel, seed, ...settings } = parseFlags(process.argv);
  const logger = pino({ level: logLevel, base: { service: 'mock-llm' } });

  const options: MockLlmOptions = {
    ...settings,
    host,
    port,
    seed,
    logger,
    models: models
      .split(',')
      .map((model) => model.trim())
      .filter(Boolean),
  };
  const mock = await startMockLlm(options);
  logger.info({ url: mock.url, models: options.models }, 'mock LLM listening');

  const stop = () => void mock.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`mock-llm failed to start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
