import { Command } from 'commander';

import { createLogger } from './admin/logger.js';
import { isConfigError } from './config/config-error.js';
import { loadConfigOrThrow } from './config/load-config.js';
import { listenAddress } from './config/schema.js';
import { withAddresses } from './config/tollgate-config.js';
import { startTollgate } from './tollgate.js';

const DEFAULT_CONFIG = 'config/tollgate.yaml';

interface Flags {
  config?: string;
  grpcAddress?: string;
  adminAddress?: string;
}

function parseFlags(argv: string[]): Flags {
  return new Command('tollgate')
    .description('Envoy external-processing sidecar for LLM and inference traffic')
    .option('--config <path>', `YAML config file (env TOLLGATE_CONFIG; default ${DEFAULT_CONFIG})`)
    .option('--grpc-address <host:port>', 'override server.grpc_address', checkAddress)
    .option('--admin-address <host:port>', 'override server.admin_address', checkAddress)
    .parse(argv)
    .opts<Flags>();
}

function checkAddress(value: string): string {
  const result = listenAddress.safeParse(value);
  if (!result.success)
    throw new Error(`invalid address "${value}": ${result.error.issues[0]?.message}`);
  return value;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  const file = flags.config ?? process.env.TOLLGATE_CONFIG ?? DEFAULT_CONFIG;

  const config = withAddresses(await loadConfigOrThrow(file), flags);
  const logger = createLogger(config.logLevel);
  logger.info({ config: file, version: config.source.version }, 'config loaded');

  const tollgate = await startTollgate(config, { logger });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainSeconds: config.server.drainTimeoutSeconds }, 'draining');

    const { drained } = await tollgate.stop();
    if (drained) logger.info('all streams finished; exiting');
    else logger.warn('drain timeout reached; open streams were cut');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  if (isConfigError(error)) console.error(error.message);
  else console.error(`tollgate failed to start: ${(error as Error).message ?? error}`);
  process.exit(1);
});
