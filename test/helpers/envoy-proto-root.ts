import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import protobuf from 'protobufjs';

import { envoyProtoIncludeDirs } from '../../src/services/envoy-protos.js';

/**
 * The protos loaded up front: Envoy's Bootstrap (which pulls in listeners,
 * clusters, routes and core types) and the extensions tollgate's envoy.yaml
 * names in `typed_config`. Any other extension is loaded when first named.
 */
export const BASE_ENVOY_PROTOS = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'google/protobuf/empty.proto',
  'google/protobuf/field_mask.proto',
] as const;

/**
 * Envoy's API protos as protobufjs reflection objects, loaded from the same
 * `@grpc/grpc-js-xds` folders tollgate serves from. Field names keep their
 * proto (snake_case) spelling.
 */
export class EnvoyProtoRoot {
  private readonly loadedPackages = new Set<string>();

  private constructor(
    private readonly root: protobuf.Root,
    private readonly includeDirs: readonly string[],
  ) {}

  /** Loads `files` (paths relative to the include dirs) and resolves every type. */
  static load(files: readonly string[] = BASE_ENVOY_PROTOS): EnvoyProtoRoot {
    const includeDirs = envoyProtoIncludeDirs();
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => findInclude(includeDirs, target) ?? target;

    root.loadSync([...files], { keepCase: true });
    root.resolveAll();
    return new EnvoyProtoRoot(root, includeDirs);
  }

  /**
   * The message type named `fullName` (no leading dot), or undefined when
   * Envoy's API has no such message. A type not loaded yet is looked for in
   * the folder its package maps to (`envoy.extensions.filters.http.router.v3`
   * → `envoy/extensions/filters/http/router/v3/`), so every `@type` of the
   * API resolves without listing its file here.
   */
  messageType(fullName: string): protobuf.Type | undefined {
    const found = this.lookup(fullName);
    if (found) return found;

    const packageName = fullName.slice(0, fullName.lastIndexOf('.'));
    if (!this.loadPackage(packageName)) return undefined;
    return this.lookup(fullName);
  }

  /** Every message type loaded so far whose full name starts with `prefix`. */
  messageNames(prefix: string): string[] {
    const names: string[] = [];
    const visit = (namespace: protobuf.NamespaceBase) => {
      for (const nested of namespace.nestedArray) {
        if (nested instanceof protobuf.Type) names.push(nested.fullName.slice(1));
        if (nested instanceof protobuf.Namespace) visit(nested);
      }
    };
    visit(this.root);
    return names.filter((name) => name.startsWith(prefix));
  }

  private lookup(fullName: string): protobuf.Type | undefined {
    const found = this.root.lookup(fullName);
    return found instanceof protobuf.Type ? found : undefined;
  }

  private loadPackage(packageName: string): boolean {
    if (this.loadedPackages.has(packageName)) return false;
    this.loadedPackages.add(packageName);

    const relative = packageName.split('.').join('/');
    const folder = findInclude(this.includeDirs, relative);
    if (!folder) return false;

    const files = readdirSync(folder)
      .filter((name) => name.endsWith('.proto'))
      .map((name) => `${relative}/${name}`);
    if (files.length === 0) return false;

    this.root.loadSync(files, { keepCase: true });
    this.root.resolveAll();
    return true;
  }
}

function findInclude(includeDirs: readonly string[], target: string): string | undefined {
  if (path.isAbsolute(target)) return target;

  for (const dir of includeDirs) {
    const candidate = path.join(dir, target);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
