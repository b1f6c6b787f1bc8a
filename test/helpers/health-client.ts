import {
  credentials,
  makeGenericClientConstructor,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

type HealthResponse = { status: string };

interface HealthStub {
  Check(
    request: { service: string },
    callback: (error: ServiceError | null, response?: HealthResponse) => void,
  ): void;
  Watch(request: { service: string }): ClientReadableStream<HealthResponse>;
  close(): void;
}

const HealthStubClass = makeGenericClientConstructor(healthService, 'Health');

/** A `grpc.health.v1.Health` client, as Envoy's gRPC health checker uses it. */
export class HealthClient {
  private readonly stub: HealthStub;

  constructor(port: number) {
    const address = `127.0.0.1:${port}`;
    this.stub = new HealthStubClass(address, credentials.createInsecure()) as unknown as HealthStub;
  }

  /** `Check` for `service` ('' for the server as a whole): SERVING, NOT_SERVING, ... */
  check(service: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.stub.Check({ service }, (error, response) =>
        error ? reject(error) : resolve(response?.status ?? 'UNKNOWN'),
      );
    });
  }

  /** `Watch` for `service`: each status the server sends, in order. */
  watch(service: string): HealthWatch {
    return new HealthWatch(this.stub.Watch({ service }));
  }

  close(): void {
    this.stub.close();
  }
}

/** An open `Watch` stream. */
export class HealthWatch {
  readonly statuses: string[] = [];

  constructor(private readonly call: ClientReadableStream<HealthResponse>) {
    call.on('data', (response: HealthResponse) => this.statuses.push(response.status));
    call.on('error', () => undefined);
  }

  /** Stops watching. */
  cancel(): void {
    this.call.cancel();
  }
}
