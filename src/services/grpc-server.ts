import { readFileSync } from 'node:fs';

import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

import type { Logger } from 'pino';

import type { TlsConfig } from '../config/tollgate-config.js';
import { recycleConnections } from './connection-recycler.js';

/** The service name Envoy's ext_proc cluster health checks can ask for. */
export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';

/** Options for the gRPC listener. */
export interface GrpcServerOptions {
  address: string;
  maxMessageBytes: number;
  tls?: TlsConfig;
  /** Where a listener that cannot recycle its connections is reported. */
  logger?: Logger;
  services: ReadonlyArray<{
    name: string;
    definition: ServiceDefinition;
    implementation: object;
  }>;
}

/**
 * The gRPC listener with the standard `grpc.health.v1.Health` service beside
 * tollgate's own services. Health reports SERVING once bound and NOT_SERVING
 * from the moment a drain starts.
 */
export class GrpcServer {
  private readonly server: Server;
  private readonly health: HealthImplementation;
  private boundPort: number | undefined;

  constructor(private readonly options: GrpcServerOptions) {
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': options.maxMessageBytes,
      'grpc.keepalive_permit_without_calls': 1,
    });

    const statuses = Object.fromEntries(options.services.map((s) => [s.name, 'NOT_SERVING']));
    this.health = new HealthImplementation({ '': 'NOT_SERVING', ...statuses });
    this.health.addToServer(this.server);
    for (const service of options.services) {
      this.server.addService(service.definition, service.implementation as never);
    }
  }

  /** Binds the address and starts serving; resolves with the bound port. */
  async start(): Promise<number> {
    const credentials = serverCredentials(this.options.tls);
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.options.address, credentials, (error, port) =>
        error ? reject(listenError(this.options.address, error)) : resolve(port),
      );
    });

    if (!recycleConnections(this.server)) {
      this.options.logger?.warn(
        'grpc-js keeps its listeners elsewhere than tollgate expects: connections are not ' +
          "recycled, so a client resetting many streams may meet nghttp2's reset limit " +
          '(GOAWAY INTERNAL_ERROR, every stream on the connection failed)',
      );
    }
    this.setServing('SERVING');
    return this.boundPort;
  }

  /** The port actually bound (useful when the address asked for port 0). */
  get port(): number | undefined {
    return this.boundPort;
  }

  /**
   * Stops accepting new streams and lets open ones finish for up to
   * `timeoutMs`; then cuts whatever is left. Resolves true when everything
   * finished in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.setServing('NOT_SERVING');

    const graceful = new Promise<boolean>((resolve) =>
      this.server.tryShutdown(() => resolve(true)),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });

    const finished = await Promise.race([graceful, deadline]);
    clearTimeout(timer);
    if (!finished) this.server.forceShutdown();
    return finished;
  }

  private setServing(status: 'SERVING' | 'NOT_SERVING'): void {
    this.health.setStatus('', status);
    for (const service of this.options.services) this.health.setStatus(service.name, status);
  }
}

function serverCredentials(tls: TlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();

  const rootCerts = tls.clientCaFile ? readFileSync(tls.clientCaFile) : null;
  const keyPair = {
    cert_chain: readFileSync(tls.certFile),
    private_key: readFileSync(tls.keyFile),
  };
  return ServerCredentials.createSsl(rootCerts, [keyPair], tls.requireClientCert);
}

function listenError(address: string, error: Error): Error {
  const hint = /EADDRINUSE/.test(error.message)
    ? ' The port is taken: pick another with --grpc-address or server.grpc_address.'
    : '';
  return new Error(`cannot listen for gRPC on ${address}: ${error.message}.${hint}`);
}
