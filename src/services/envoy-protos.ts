import { createRequire } from 'node:module';
import path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The Envoy API protos tollgate serves. They are not copied into this repo: the
 * npm package `@grpc/grpc-js-xds` ships Envoy's API tree (and its imports)
 * under `deps/`, and they are loaded from there at start-up.
 */
export const ENVOY_SERVICE_PROTOS = [
  'envoy/service/ext_proc/v3/external_processor.proto',
  'envoy/service/auth/v3/external_auth.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/discovery/v3/ads.proto',
  // Not a service: the EDS resource type. The discovery protos carry it as an
  // Any, so it is loaded beside them for the Any to be encoded from.
  'envoy/config/endpoint/v3/endpoint.proto',
] as const;

/**
 * How proto messages map to JavaScript objects. Field names keep their proto
 * (snake_case) spelling so that code reads like Envoy's documentation; oneofs
 * gain a virtual field naming the member that is set.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
};

/** The `deps/` folders of `@grpc/grpc-js-xds` that hold Envoy's API and its imports. */
export function envoyProtoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@grpc/grpc-js-xds/package.json');
  const deps = path.join(path.dirname(packageJson), 'deps');

  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) =>
    path.join(deps, dir),
  );
}

let cached: grpc.GrpcObject | undefined;

/** Loads (once per process) the gRPC definitions of every service tollgate serves. */
export function loadEnvoyProtos(): grpc.GrpcObject {
  if (cached) return cached;

  const definition = protoLoader.loadSync([...ENVOY_SERVICE_PROTOS], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: envoyProtoIncludeDirs(),
  });
  cached = grpc.loadPackageDefinition(definition);
  return cached;
}

/** Looks up a service definition by its fully qualified proto name. */
export function envoyService(fullName: string): grpc.ServiceDefinition {
  let node: unknown = loadEnvoyProtos();
  for (const part of fullName.split('.')) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }

  const service = (node as { service?: grpc.ServiceDefinition } | undefined)?.service;
  if (!service) throw new Error(`proto service ${fullName} is not in the loaded Envoy protos`);
  return service;
}
