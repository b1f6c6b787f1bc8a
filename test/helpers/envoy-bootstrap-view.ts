/**
 * Read-only accessors over a parsed Envoy bootstrap (plain YAML data, proto
 * field names), for tests that check what envoy/envoy.yaml says rather than
 * whether Envoy would load it (EnvoyConfigValidator does that).
 */

type Json = Record<string, unknown>;

const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.' +
  'HttpConnectionManager';

/** The type URL of each filter or extension the tests look for. */
export const ENVOY_TYPES = {
  extProc: 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
  extAuthz: 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  headerMutation:
    'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
  http2Options: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

/** An HTTP filter as listed in the connection manager. */
export interface HttpFilterView {
  readonly name: string;
  readonly disabled: boolean;
  readonly type: string;
  readonly config: Json;
}

/** A listener, its port and its HTTP connection manager. */
export interface ListenerView {
  readonly name: string;
  readonly port: number;
  readonly bufferLimitBytes: number | undefined;
  readonly connectionManager: Json;
  readonly httpFilters: readonly HttpFilterView[];
  /** Clusters the route table sends requests to. */
  readonly routeClusters: readonly string[];
  /** The route table's routes, in order. */
  readonly routes: readonly RouteView[];
  /** Every string of every access log's format. */
  readonly accessLogFormats: readonly string[];
}

/** One route: how it matches the path, and the cluster it sends to. */
export interface RouteView {
  readonly name: string | undefined;
  /** `match.prefix`, `match.path` or `match.safe_regex.regex`, whichever is set. */
  readonly match: { prefix?: string; path?: string; regex?: string };
  readonly cluster: string;
}

/** A cluster and the addresses of its static endpoints. */
export interface ClusterView {
  readonly name: string;
  readonly type: string;
  readonly endpoints: ReadonlyArray<{ address: string; port: number }>;
  readonly raw: Json;
}

/** The listeners of `static_resources`, with their HTTP connection managers. */
export function listenersOf(bootstrap: unknown): ListenerView[] {
  const listeners = list(get(bootstrap, 'static_resources', 'listeners'));

  return listeners.map((listener) => {
    const filters = list(get(listener, 'filter_chains', 0, 'filters'));
    const hcm = object(filters.map((filter) => get(filter, 'typed_config')).find(isHcm));
    const routes = list(get(hcm, 'route_config', 'virtual_hosts')).flatMap((host) =>
      list(get(host, 'routes')),
    );

    return {
      name: String(get(listener, 'name')),
      port: Number(get(listener, 'address', 'socket_address', 'port_value')),
      bufferLimitBytes: optionalNumber(get(listener, 'per_connection_buffer_limit_bytes')),
      connectionManager: hcm,
      httpFilters: list(get(hcm, 'http_filters')).map((filter) => ({
        name: String(get(filter, 'name')),
        disabled: get(filter, 'disabled') === true,
        type: String(get(filter, 'typed_config', '@type')),
        config: object(get(filter, 'typed_config')),
      })),
      routeClusters: routes.map((route) => String(get(route, 'route', 'cluster'))),
      routes: routes.map((route) => ({
        name: optionalString(get(route, 'name')),
        match: {
          prefix: optionalString(get(route, 'match', 'prefix')),
          path: optionalString(get(route, 'match', 'path')),
          regex: optionalString(get(route, 'match', 'safe_regex', 'regex')),
        },
        cluster: String(get(route, 'route', 'cluster')),
      })),
      accessLogFormats: list(get(hcm, 'access_log')).flatMap((log) =>
        strings(get(log, 'typed_config', 'log_format')),
      ),
    };
  });
}

/** The clusters of `static_resources`. */
export function clustersOf(bootstrap: unknown): ClusterView[] {
  return list(get(bootstrap, 'static_resources', 'clusters')).map((cluster) => ({
    name: String(get(cluster, 'name')),
    type: String(get(cluster, 'type') ?? 'STATIC'),
    endpoints: list(get(cluster, 'load_assignment', 'endpoints'))
      .flatMap((locality) => list(get(locality, 'lb_endpoints')))
      .map((endpoint) => {
        const socket = get(endpoint, 'endpoint', 'address', 'socket_address');
        return { address: String(get(socket, 'address')), port: Number(get(socket, 'port_value')) };
      }),
    raw: object(cluster),
  }));
}

/** The one HTTP filter of `type` on the first listener; throws when absent. */
export function httpFilter(bootstrap: unknown, type: string): HttpFilterView {
  const filter = listenersOf(bootstrap)[0]?.httpFilters.find(
    (candidate) => candidate.type === type,
  );
  if (!filter) throw new Error(`no HTTP filter of type ${type} on the first listener`);
  return filter;
}

/** The gRPC cluster a filter or config source names in `grpc_service(s)`. */
export function grpcClusterOf(config: unknown): string | undefined {
  const service = get(config, 'grpc_service') ?? list(get(config, 'grpc_services'))[0];
  const name = get(service, 'envoy_grpc', 'cluster_name');
  return typeof name === 'string' ? name : undefined;
}

/**
 * Every `%DYNAMIC_METADATA(namespace:key:field)%` in the access log formats,
 * split into its parts (`path` is what follows the namespace).
 */
export function dynamicMetadataRefs(formats: readonly string[]) {
  const refs: Array<{ namespace: string; path: string[] }> = [];
  for (const format of formats) {
    for (const match of format.matchAll(/%DYNAMIC_METADATA\(([^)]*)\)(?::\d+)?%/g)) {
      const [namespace = '', ...path] = (match[1] ?? '').split(':');
      refs.push({ namespace, path });
    }
  }
  return refs;
}

/** Reads a nested value by keys and list indexes; undefined when any step is missing. */
export function get(value: unknown, ...steps: Array<string | number>): unknown {
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

function isHcm(config: unknown): boolean {
  return get(config, '@type') === HCM_TYPE;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function object(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
