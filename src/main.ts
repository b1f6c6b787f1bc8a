import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { setLogger, setLogVerbosity, logVerbosity } from '@grpc/grpc-js';
import { Command, InvalidArgumentError } from 'commander';

import { isLoopbackHost } from './admin/admin-auth.js';
import { createLogger, type Logger } from './admin/logger.js';
import { isConfigError } from './config/config-error.js';
import { loadConfigOrThrow } from './config/load-config.js';
import { listenAddress } from './config/schema.js';
import { withAddresses, type TollgateConfig } from './config/tollgate-config.js';
import { startTollgate } from './tollgate.js';

/** The bundled config, found from the installed code rather than the working directory. */
const BUNDLED_CONFIG = fileURLToPath(new URL('../../config/tollgate.yaml', import.meta.url));

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

interface Flags {
  config?: string;
  grpcAddress?: string;
  adminAddress?: string;
}

function parseFlags(argv: string[]): Flags {
  return new Command('tollgate')
    .description('Envoy external-processing sidecar for LLM and inference traffic')
    .version(version)
    .option('--config <path>', 'YAML config file (default: $TOLLGATE_CONFIG, else the bundled one)')
    .option('--grpc-address <host:port>', 'override server.grpc_address', checkAddress)
    .option('--admin-address <host:port>', 'override server.admin_address', checkAddress)
    .showHelpAfterError()
    .parse(argv)
    .opts<Flags>();
}

function checkAddress(value: string): string {
  const result = listenAddress.safeParse(value);
  if (!result.success) throw new InvalidArgumentError(result.error.issues[0]?.message ?? '');
  return value;
}

/** Sends grpc-js's own diagnostics into the JSON log instead of bare stderr lines. */
function routeGrpcLogs(logger: Logger): void {
  const grpcLogger = logger.child({ component: 'grpc-js' });
  setLogger({
    error: (...args: unknown[]) => grpcLogger.warn(args.join(' ')),
    info: (...args: unknown[]) => grpcLogger.debug(args.join(' ')),
    debug: (...args: unknown[]) => grpcLogger.debug(args.join(' ')),
  } as Console);
  setLogVerbosity(logVerbosity.ERROR);
}

/** Headers the config reads API keys from: secrets, redacted like `authorization`. */
function apiKeyHeaders(config: TollgateConfig): string[] {
  return config.tenants.sources.flatMap((source) =>
    source.kind === 'api_key' ? [source.header] : [],
  );
}

function warnIfAdminIsExposed(config: TollgateConfig, logger: Logger): void {
  const address = config.server.adminAddress;
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (isLoopbackHost(host) || config.server.adminAuth.token) return;

  logger.warn(
    { admin: address },
    'the admin port listens beyond loopback without a token: its controls (breaker and ' +
      'budget resets) are refused with 403 until server.admin_auth.token or ' +
      'TOLLGATE_ADMIN_TOKEN is set; its reads (/metrics, /status) are open',
  );
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv);
  // An empty TOLLGATE_CONFIG (`TOLLGATE_CONFIG=`) counts as unset.
  const file = flags.config ?? (process.env.TOLLGATE_CONFIG || undefined) ?? BUNDLED_CONFIG;

  const loaded = await loadConfigOrThrow(file);
  const config = withAddresses(loaded.config, flags);
  const logger = createLogger(config.logLevel, undefined, apiKeyHeaders(config));
  routeGrpcLogs(logger);
  logger.info({ config: file, version: config.source.version }, 'config loaded');
  for (const warning of loaded.warnings) logger.warn({ config: file }, warning);
  warnIfAdminIsExposed(config, logger);

  const tollgate = await startTollgate(config, {
    logger,
    reload: { file, prepare: (reloaded) => withAddresses(reloaded, flags) },
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during drain; exiting without waiting');
      logger.flush();
      process.exit(1);
    }
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
  // The reload logs its own outcome; a bad file keeps the running config.
  process.on('SIGHUP', () => void tollgate.reloadConfig());
}

main().catch((error: unknown) => {
  if (isConfigError(error)) console.error(error.message);
  else console.error(`tollgate failed to start: ${(error as Error).message ?? error}`);
  process.exit(1);
});
