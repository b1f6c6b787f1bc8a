import { Command } from 'commander';

import type { ServerDuplexStream } from '@grpc/grpc-js';

import { envoyService } from '../../src/services/envoy-protos.js';
import type {
  ProcessingRequest,
  ProcessingResponse,
} from '../../src/services/ext-proc/messages.js';
import { EXT_PROC_SERVICE, GrpcServer } from '../../src/services/grpc-server.js';

/**
 * The floor of the load bench: an ext_proc server on the same grpc-js server
 * class, options and Envoy proto loading as tollgate, that answers every
 * message with an empty reply of the same phase (Envoy reads it as CONTINUE)
 * and closes its side when Envoy half-closes. Whatever tollgate costs above
 * this is tollgate's own.
 */
function serveNoop(call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>): void {
  call.on('data', (message: ProcessingRequest) => {
    const phase = message.request;
    if (phase) call.write({ [phase]: {} } as ProcessingResponse);
  });
  call.on('end', () => call.end());
  call.on('error', () => undefined);
}

async function main(): Promise<void> {
  const { grpcAddress } = new Command('noop-server')
    .description('ext_proc server that continues every message (the load bench floor)')
    .option('--grpc-address <host:port>', 'listen address', '127.0.0.1:0')
    .parse(process.argv)
    .opts<{ grpcAddress: string }>();

  const server = new GrpcServer({
    address: grpcAddress,
    maxMessageBytes: 8 * 1024 * 1024,
    services: [
      {
        name: EXT_PROC_SERVICE,
        definition: envoyService(EXT_PROC_SERVICE),
        implementation: { Process: serveNoop },
      },
    ],
  });
  const grpcPort = await server.start();

  // The same start-up line shape tollgate logs, so the bench finds the port the same way.
  console.log(JSON.stringify({ msg: 'noop ext_proc serving', grpcPort }));
  const stop = () => void server.drain(1000).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`noop ext_proc server failed to start: ${(error as Error).message}`);
  process.exit(1);
});
