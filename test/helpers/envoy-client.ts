import { credentials, type ChannelCredentials, type ClientDuplexStream } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';

import * as protoLoader from '@grpc/proto-loader';

import {
  ENVOY_SERVICE_PROTOS,
  envoyProtoIncludeDirs,
  PROTO_LOADER_OPTIONS,
} from '../../src/services/envoy-protos.js';
import type {
  ProcessingRequest,
  ProcessingResponse,
} from '../../src/services/ext-proc/messages.js';

/** How a stream ended, from the client's side. */
export interface StreamStatus {
  code: number;
  details: string;
}

type ProcessorClient = grpc.Client & {
  Process(): ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
};

/** Creates an ext_proc client for `127.0.0.1:port`, as Envoy's gRPC client would be. */
export function extProcClient(
  port: number,
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): ProcessorClient {
  const protos = clientProtos() as unknown as {
    envoy: { service: { ext_proc: { v3: { ExternalProcessor: grpc.ServiceClientConstructor } } } };
  };
  const Client = protos.envoy.service.ext_proc.v3.ExternalProcessor;
  return new Client(`127.0.0.1:${port}`, channelCredentials, options) as unknown as ProcessorClient;
}

let definition: protoLoader.PackageDefinition | undefined;
let loaded: grpc.GrpcObject | undefined;

/**
 * The same Envoy protos the server loads, but with enums decoded as numbers,
 * so tests compare `immediate_response.status.code` with 503 rather than with
 * the enum's name.
 */
function clientDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync([...ENVOY_SERVICE_PROTOS], {
    ...PROTO_LOADER_OPTIONS,
    enums: Number,
    includeDirs: envoyProtoIncludeDirs(),
  });
  return definition;
}

export function clientProtos(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(clientDefinition());
  return loaded;
}

/** How a client encodes ProcessingRequests and decodes ProcessingResponses. */
export function processCodec(): {
  encode(message: ProcessingRequest): Buffer;
  decode(bytes: Buffer): ProcessingResponse;
} {
  const service = clientDefinition()['envoy.service.ext_proc.v3.ExternalProcessor'];
  const method = (service as protoLoader.ServiceDefinition).Process!;
  return {
    encode: (message) => method.requestSerialize(message),
    decode: (bytes) => method.responseDeserialize(bytes) as ProcessingResponse,
  };
}

/**
 * One ext_proc stream driven the way Envoy drives it: send a message, wait for
 * its reply, send the next. Replies and the final status are collected so a
 * test can assert on them.
 */
export class EnvoyStream {
  readonly replies: ProcessingResponse[] = [];
  readonly status: Promise<StreamStatus>;

  private readonly call: ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  private readonly waiters: Array<(reply: ProcessingResponse | undefined) => void> = [];
  private readonly unread: ProcessingResponse[] = [];
  private closed = false;

  constructor(client: ProcessorClient) {
    this.call = client.Process();
    this.call.on('data', (reply: ProcessingResponse) => {
      this.replies.push(reply);
      const waiter = this.waiters.shift();
      if (waiter) waiter(reply);
      else this.unread.push(reply);
    });

    this.status = new Promise((resolve) => {
      this.call.on('status', (status: grpc.StatusObject) => {
        this.closed = true;
        this.waiters.splice(0).forEach((waiter) => waiter(undefined));
        resolve({ code: status.code, details: status.details });
      });
    });
    // Errors also arrive as a status; this listener only keeps them from throwing.
    this.call.on('error', () => undefined);
  }

  /** Sends a message and resolves with its reply (undefined if the stream ended instead). */
  async send(message: ProcessingRequest): Promise<ProcessingResponse | undefined> {
    this.call.write(message);
    return this.nextReply();
  }

  /** Sends a message without waiting for a reply (observability mode, or pipelining). */
  post(message: ProcessingRequest): void {
    this.call.write(message);
  }

  /** The next reply not yet read. */
  nextReply(): Promise<ProcessingResponse | undefined> {
    const ready = this.unread.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Half-closes the stream, as Envoy does when the HTTP exchange is complete. */
  async halfClose(): Promise<StreamStatus> {
    this.call.end();
    return this.status;
  }

  /** Cancels the stream, as Envoy does when the client goes away. */
  cancel(): Promise<StreamStatus> {
    this.call.cancel();
    return this.status;
  }
}

/**
 * Which member of the reply's `response` oneof is set (`request_headers`, ...,
 * `immediate_response`), as proto-loader's virtual oneof field names it.
 */
export function replyKind(reply: ProcessingResponse | undefined): string | undefined {
  return (reply as { response?: string } | undefined)?.response;
}
