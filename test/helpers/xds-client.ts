import * as grpc from '@grpc/grpc-js';

import {
  CLA_TYPE_URL,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../src/services/eds/discovery-messages.js';
import { clientProtos } from './envoy-client.js';

export { CLA_TYPE_URL };

/** The node a test Envoy announces on the first request of each stream. */
export const TEST_NODE = Object.freeze({
  id: 'envoy-test-1',
  cluster: 'edge',
  user_agent_name: 'envoy',
});

type Duplex<Req, Res> = grpc.ClientDuplexStream<Req, Res>;
type Sotw = Duplex<DiscoveryRequest, DiscoveryResponse>;
type Delta = Duplex<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
type Unary = (
  request: DiscoveryRequest,
  callback: (error: grpc.ServiceError | null, response?: DiscoveryResponse) => void,
) => void;

/** `envoy.service.endpoint.v3.EndpointDiscoveryService` as a client. */
export type EdsClient = grpc.Client & {
  StreamEndpoints(): Sotw;
  DeltaEndpoints(): Delta;
  FetchEndpoints: Unary;
};

/** `envoy.service.discovery.v3.AggregatedDiscoveryService` as a client. */
export type AdsClient = grpc.Client & {
  StreamAggregatedResources(): Sotw;
  DeltaAggregatedResources(): Delta;
};

type Constructor = grpc.ServiceClientConstructor;

/** An EDS client for `127.0.0.1:port`, as Envoy's gRPC client would be. */
export function edsClient(port: number): EdsClient {
  const protos = clientProtos() as unknown as {
    envoy: { service: { endpoint: { v3: { EndpointDiscoveryService: Constructor } } } };
  };
  const Client = protos.envoy.service.endpoint.v3.EndpointDiscoveryService;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return client as unknown as EdsClient;
}

/** An ADS client for `127.0.0.1:port`. */
export function adsClient(port: number): AdsClient {
  const protos = clientProtos() as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: Constructor } } } };
  };
  const Client = protos.envoy.service.discovery.v3.AggregatedDiscoveryService;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return client as unknown as AdsClient;
}

/** Calls FetchEndpoints; resolves with the response or the call's error. */
export function fetchEndpoints(
  client: EdsClient,
  request: DiscoveryRequest,
): Promise<{ response?: DiscoveryResponse; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    client.FetchEndpoints(request, (error, response) => resolve(error ? { error } : { response }));
  });
}

/** How a stream ended, from the client's side. */
export interface XdsStreamStatus {
  readonly code: number;
  readonly details: string;
}

/**
 * One discovery stream driven by a test as Envoy drives it: requests are
 * written as they are built, responses are read one at a time in order, and
 * the final status is kept. {@link quiet} is how a test says "nothing more
 * arrives".
 */
export class XdsStream<Req, Res> {
  /** Every response received, in order. */
  readonly received: Res[] = [];
  readonly status: Promise<XdsStreamStatus>;

  private readonly unread: Res[] = [];
  private readonly waiters: Array<(response: Res | undefined) => void> = [];
  private ended = false;

  constructor(private readonly call: Duplex<Req, Res>) {
    call.on('data', (response: Res) => {
      this.received.push(response);
      const waiter = this.waiters.shift();
      if (waiter) waiter(response);
      else this.unread.push(response);
    });
    this.status = new Promise((resolve) => {
      call.on('status', (status: grpc.StatusObject) => {
        this.ended = true;
        this.waiters.splice(0).forEach((waiter) => waiter(undefined));
        resolve({ code: status.code, details: status.details });
      });
    });
    // Errors also arrive as a status; this listener only keeps them from throwing.
    call.on('error', () => undefined);
  }

  /** Writes one request. */
  send(request: Req): void {
    this.call.write(request);
  }

  /** The next unread response; throws when none arrives within `timeoutMs` or the stream ends. */
  async next(timeoutMs = 2000): Promise<Res> {
    const response = await this.nextOrNothing(timeoutMs);
    if (response === undefined) {
      const why = this.ended ? 'the stream ended' : `nothing arrived within ${timeoutMs} ms`;
      throw new Error(`expected a discovery response, but ${why}`);
    }
    return response;
  }

  /** Writes one request and reads the next response. */
  async exchange(request: Req, timeoutMs = 2000): Promise<Res> {
    this.send(request);
    return this.next(timeoutMs);
  }

  /** Resolves true when no response arrives for `ms` (a short window: only a bug fills it). */
  async quiet(ms = 150): Promise<boolean> {
    return (await this.nextOrNothing(ms)) === undefined;
  }

  /** Half-closes the stream, as a client that is done does. */
  halfClose(): Promise<XdsStreamStatus> {
    this.call.end();
    return this.status;
  }

  /** Cancels the stream, as Envoy does when it goes away. */
  cancel(): Promise<XdsStreamStatus> {
    this.call.cancel();
    return this.status;
  }

  private nextOrNothing(timeoutMs: number): Promise<Res | undefined> {
    const ready = this.unread.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.ended) return Promise.resolve(undefined);

    return new Promise((resolve) => {
      const waiter = (response: Res | undefined) => {
        clearTimeout(timer);
        resolve(response);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

/** A state-of-the-world stream. */
export type SotwStream = XdsStream<DiscoveryRequest, DiscoveryResponse>;

/** An incremental stream. */
export type DeltaStream = XdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

/** What a state-of-the-world request says besides the names. */
export interface SotwRequestOptions {
  readonly version?: string;
  readonly nonce?: string;
  /** Makes the request a NACK. */
  readonly error?: string;
  /** Sent on the first request of a stream only, as Envoy does. */
  readonly node?: boolean;
  readonly typeUrl?: string;
}

/** A state-of-the-world request for `names`. */
export function sotwRequest(
  names: readonly string[],
  options: SotwRequestOptions = {},
): DiscoveryRequest {
  return {
    node: options.node ? TEST_NODE : undefined,
    type_url: options.typeUrl ?? CLA_TYPE_URL,
    resource_names: [...names],
    version_info: options.version ?? '',
    response_nonce: options.nonce ?? '',
    error_detail: options.error === undefined ? undefined : { code: 3, message: options.error },
  };
}

/** The ACK of `response`: its version and nonce echoed, with the names still wanted. */
export function sotwAck(response: DiscoveryResponse, names: readonly string[]): DiscoveryRequest {
  return sotwRequest(names, { version: response.version_info, nonce: response.nonce });
}

/** What an incremental request says. */
export interface DeltaRequestOptions {
  readonly subscribe?: readonly string[];
  readonly unsubscribe?: readonly string[];
  readonly initialVersions?: Record<string, string>;
  readonly nonce?: string;
  readonly error?: string;
  readonly node?: boolean;
  readonly typeUrl?: string;
}

/** An incremental request. */
export function deltaRequest(options: DeltaRequestOptions): DeltaDiscoveryRequest {
  return {
    node: options.node ? TEST_NODE : undefined,
    type_url: options.typeUrl ?? CLA_TYPE_URL,
    resource_names_subscribe: [...(options.subscribe ?? [])],
    resource_names_unsubscribe: [...(options.unsubscribe ?? [])],
    initial_resource_versions: options.initialVersions ?? {},
    response_nonce: options.nonce ?? '',
    error_detail: options.error === undefined ? undefined : { code: 3, message: options.error },
  };
}

/** The ACK of an incremental response. */
export function deltaAck(response: DeltaDiscoveryResponse): DeltaDiscoveryRequest {
  return deltaRequest({ nonce: response.nonce });
}
