import path from 'node:path';

import { composeServices, flagValue, hostOf, portOf, type ComposeService } from './compose-file.js';
import {
  clustersOf,
  dynamicMetadataRefs,
  ENVOY_TYPES,
  get,
  grpcClusterOf,
  listenersOf,
  type ClusterView,
  type ListenerView,
} from './envoy-bootstrap-view.js';

/** The files of the docker-compose setup, parsed, and a way to check that paths exist. */
export interface DeploymentFiles {
  /** docker-compose.yml */
  readonly compose: unknown;
  /** envoy/envoy.yaml */
  readonly envoy: unknown;
  /** config/tollgate.yaml, raw (snake_case keys, defaults not filled). */
  readonly tollgate: unknown;
  /** The Dockerfile's text. */
  readonly dockerfile: string;
  /** Whether a path relative to the repository root exists. */
  exists(relative: string): boolean;
}

/** The services docker-compose.yml must define. */
export const REQUIRED_SERVICES = ['envoy', 'tollgate', 'redis', 'mock-llm'] as const;

/** tollgate's defaults for the keys the bundled config may leave out. */
const TOLLGATE_DEFAULTS = {
  grpcAddress: '127.0.0.1:50051',
  adminAddress: '127.0.0.1:9464',
  drainTimeoutSeconds: 15,
  maxMessageBytes: 8 * 1024 * 1024,
  maxRequestBodyBytes: 1024 * 1024,
  decisionDeadlineMs: 150,
  metadataNamespace: 'envoy.filters.http.ext_proc',
  metadataKey: 'tollgate',
};

/** Envoy's per-connection buffer limit when a listener sets none. */
const ENVOY_DEFAULT_BUFFER_BYTES = 1024 * 1024;

/** Envoy's ext_proc `message_timeout` and ext_authz timeout when the filter sets none. */
const ENVOY_DEFAULT_MESSAGE_TIMEOUT_MS = 200;

/** Docker's default stop grace period. */
const DOCKER_DEFAULT_GRACE_SECONDS = 10;

const ANY_ADDRESS = ['0.0.0.0', '::'];

/** Collects the problems of one check. */
class Problems {
  readonly lines: string[] = [];

  /** Records `problem` unless `holds`. */
  unless(holds: boolean, problem: string): void {
    if (!holds) this.lines.push(problem);
  }
}

interface Context {
  readonly files: DeploymentFiles;
  readonly services: Map<string, ComposeService>;
  readonly listeners: ListenerView[];
  readonly clusters: ClusterView[];
  readonly tollgate: TollgateSettings;
  readonly problems: Problems;
}

/**
 * Checks that docker-compose.yml, envoy/envoy.yaml, config/tollgate.yaml and
 * the Dockerfile agree: service names Envoy dials, ports each side listens
 * on and publishes, files the compose file mounts or runs, metadata names,
 * buffer sizes and timeouts. Returns one line per disagreement; none when
 * they fit.
 */
export function checkDeployment(files: DeploymentFiles): string[] {
  const services = composeServices(files.compose);
  const missing = REQUIRED_SERVICES.filter((name) => !services.has(name));
  if (missing.length > 0) return [`docker-compose.yml: no service ${missing.join(', ')}`];

  const context: Context = {
    files,
    services,
    listeners: listenersOf(files.envoy),
    clusters: clustersOf(files.envoy),
    tollgate: tollgateSettings(files.tollgate),
    problems: new Problems(),
  };
  for (const check of CHECKS) check(context);
  return context.problems.lines;
}

/** Every bind mount, build context and compiled script the compose file names exists. */
function checkFiles({ files, services, problems }: Context): void {
  for (const service of services.values()) {
    for (const { source } of service.bindMounts) {
      problems.unless(
        files.exists(source),
        `${service.name}: mounts ${source}, which does not exist`,
      );
    }

    const context = service.buildContext;
    const dockerfile = context === undefined || files.exists(path.join(context, 'Dockerfile'));
    problems.unless(dockerfile, `${service.name}: build context ${context} has no Dockerfile`);

    const script = service.command.find((word) => /^dist\/.*\.js$/.test(word));
    const source = script?.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    const found = source === undefined || files.exists(source);
    problems.unless(found, `${service.name}: runs ${script}, but ${source} does not exist`);
  }
}

/** Envoy runs the mounted envoy/envoy.yaml and publishes its listener and admin ports. */
function checkEnvoyService({ services, listeners, files, problems }: Context): void {
  const envoy = services.get('envoy')!;
  const official = envoy.image?.startsWith('envoyproxy/envoy:') === true;
  problems.unless(official, `envoy: image ${envoy.image} is not the official envoyproxy/envoy`);

  const configPath = flagValue(envoy.command, '-c', '--config-path') ?? '/etc/envoy/envoy.yaml';
  problems.unless(
    mountedFrom(envoy, configPath, './envoy/envoy.yaml'),
    `envoy: runs ${configPath}, which is not ./envoy/envoy.yaml mounted`,
  );

  const adminPort = Number(get(files.envoy, 'admin', 'address', 'socket_address', 'port_value'));
  for (const port of [...listeners.map((listener) => listener.port), adminPort]) {
    problems.unless(
      envoy.publishedPorts.includes(port),
      `envoy: port ${port} of envoy.yaml is not published`,
    );
  }
}

/** tollgate runs the mounted bundled config, listens beyond loopback, drains before SIGKILL. */
function checkTollgateService({ services, tollgate, problems }: Context): void {
  const service = services.get('tollgate')!;

  const configPath = flagValue(service.command, '--config');
  problems.unless(
    configPath === undefined || mountedFrom(service, configPath, './config/tollgate.yaml'),
    `tollgate: runs --config ${configPath}, which is not ./config/tollgate.yaml mounted`,
  );

  const listens = tollgateAddresses(service, tollgate);
  for (const [what, address, configured] of [
    ['gRPC', listens.grpc, tollgate.grpcAddress],
    ['admin', listens.admin, tollgate.adminAddress],
  ] as const) {
    problems.unless(
      ANY_ADDRESS.includes(hostOf(address) ?? ''),
      `tollgate: the ${what} port listens on ${address}, unreachable from other containers`,
    );
    problems.unless(
      portOf(address) === portOf(configured),
      `tollgate: ${what} port ${portOf(address)} differs from config/tollgate.yaml (${configured})`,
    );
  }

  const adminPort = portOf(listens.admin) ?? 0;
  problems.unless(
    service.publishedPorts.includes(adminPort),
    `tollgate: admin port ${adminPort} is not published`,
  );
  problems.unless(
    service.healthcheck?.includes(`:${adminPort}/readyz`) === true,
    `tollgate: the healthcheck does not ask /readyz on the admin port ${adminPort}`,
  );

  const grace = service.stopGraceSeconds ?? DOCKER_DEFAULT_GRACE_SECONDS;
  problems.unless(
    grace > tollgate.drainTimeoutSeconds,
    `tollgate: stop_grace_period ${grace}s is not longer than drain_timeout_seconds ` +
      `${tollgate.drainTimeoutSeconds}`,
  );
}

/** Envoy's tollgate cluster dials tollgate's gRPC port; every gRPC user names a cluster. */
function checkEnvoyToTollgate(context: Context): void {
  const { services, clusters, listeners, tollgate, problems } = context;
  const cluster = clusters.find((candidate) => candidate.name === 'tollgate');
  problems.unless(cluster !== undefined, 'envoy.yaml: no cluster named tollgate');

  const grpcPort = portOf(tollgateAddresses(services.get('tollgate')!, tollgate).grpc);
  for (const { address, port } of cluster?.endpoints ?? []) {
    problems.unless(
      services.has(address),
      `envoy.yaml: cluster tollgate dials ${address}, not a compose service`,
    );
    problems.unless(
      port === grpcPort,
      `envoy.yaml: cluster tollgate dials port ${port}, tollgate listens on ${grpcPort}`,
    );
  }

  const names = new Set(clusters.map((candidate) => candidate.name));
  const filterUsers = listeners
    .flatMap((listener) => listener.httpFilters)
    .map((filter) => [filter.name, grpcClusterOf(filter.config)] as const);
  const edsUsers = clusters.map(
    (candidate) => [`cluster ${candidate.name} EDS`, grpcClusterOf(edsSource(candidate))] as const,
  );
  for (const [user, target] of [...filterUsers, ...edsUsers]) {
    problems.unless(
      target === undefined || names.has(target),
      `envoy.yaml: ${user} uses cluster ${target}, which does not exist`,
    );
  }

  for (const target of listeners.flatMap((listener) => listener.routeClusters)) {
    problems.unless(
      names.has(target),
      `envoy.yaml: a route sends to cluster ${target}, which does not exist`,
    );
  }
}

/** Breaker names, the metadata namespace and the metadata key agree between Envoy and tollgate. */
function checkNames({ listeners, clusters, tollgate, problems }: Context): void {
  const clusterNames = new Set(clusters.map((cluster) => cluster.name));
  for (const upstream of tollgate.breakerUpstreams) {
    problems.unless(
      clusterNames.has(upstream),
      `config/tollgate.yaml: breaker ${upstream} names no Envoy cluster ` +
        '(breakers are keyed by xds.cluster_name)',
    );
  }

  const extProc = listeners
    .flatMap((listener) => listener.httpFilters)
    .find((filter) => filter.type === ENVOY_TYPES.extProc);
  problems.unless(extProc !== undefined, 'envoy.yaml: no ext_proc filter');

  const attributes = get(extProc?.config, 'request_attributes');
  problems.unless(
    Array.isArray(attributes) && attributes.includes('xds.cluster_name'),
    'envoy.yaml: ext_proc request_attributes lacks xds.cluster_name',
  );

  const receiving = get(extProc?.config, 'metadata_options', 'receiving_namespaces', 'untyped');
  problems.unless(
    Array.isArray(receiving) && receiving.includes(tollgate.metadataNamespace),
    "envoy.yaml: ext_proc does not receive tollgate's metadata namespace " +
      tollgate.metadataNamespace,
  );

  const written = `${tollgate.metadataNamespace}:${tollgate.metadataKey}`;
  for (const ref of dynamicMetadataRefs(
    listeners.flatMap((listener) => listener.accessLogFormats),
  )) {
    const read = [ref.namespace, ...ref.path].join(':');
    problems.unless(
      read.startsWith(`${written}:`),
      `envoy.yaml: access log reads ${read}, tollgate writes ${written}`,
    );
  }
}

/** Envoy buffers no more than tollgate reads in one body and accepts in one gRPC message. */
function checkLimits({ listeners, tollgate, problems }: Context): void {
  for (const listener of listeners) {
    const limit = listener.bufferLimitBytes ?? ENVOY_DEFAULT_BUFFER_BYTES;
    problems.unless(
      limit <= tollgate.maxRequestBodyBytes,
      `envoy.yaml: listener ${listener.name} buffers ${limit} bytes, over tollgate's ` +
        `usage.max_request_body_bytes ${tollgate.maxRequestBodyBytes}`,
    );
    problems.unless(
      limit < tollgate.maxMessageBytes,
      `envoy.yaml: listener ${listener.name} buffers ${limit} bytes, not below tollgate's ` +
        `server.max_message_bytes ${tollgate.maxMessageBytes}`,
    );

    const authz = listener.httpFilters.find((filter) => filter.type === ENVOY_TYPES.extAuthz);
    const authzBytes = Number(get(authz?.config, 'with_request_body', 'max_request_bytes') ?? 0);
    problems.unless(
      authzBytes <= limit,
      `envoy.yaml: ext_authz asks for ${authzBytes} body bytes, over the listener's ${limit}`,
    );
  }
}

/**
 * tollgate answers by its fail mode before Envoy gives up on it: the decision
 * deadline is under ext_proc's `message_timeout` and ext_authz's timeout.
 */
function checkDeadlines({ listeners, tollgate, problems }: Context): void {
  const deadlineMs = tollgate.decisionDeadlineMs;
  for (const filter of listeners.flatMap((listener) => listener.httpFilters)) {
    const timeout =
      filter.type === ENVOY_TYPES.extProc
        ? { name: 'ext_proc message_timeout', value: get(filter.config, 'message_timeout') }
        : filter.type === ENVOY_TYPES.extAuthz
          ? { name: 'ext_authz timeout', value: get(filter.config, 'grpc_service', 'timeout') }
          : undefined;
    if (!timeout) continue;

    const timeoutMs = durationMs(timeout.value) ?? ENVOY_DEFAULT_MESSAGE_TIMEOUT_MS;
    problems.unless(
      deadlineMs < timeoutMs,
      `config/tollgate.yaml: server.decision_deadline_ms ${deadlineMs} is not under Envoy's ` +
        `${timeout.name} (${timeoutMs} ms): Envoy would answer 504 before tollgate's fail mode`,
    );
  }
}

/** A protobuf JSON duration (`0.2s`) in milliseconds. */
function durationMs(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
  return match ? Number(match[1]) * 1000 : undefined;
}

/**
 * The mock backend listens where tollgate publishes it over EDS (a fixed IP:
 * Envoy does not resolve names in EDS endpoints), EDS clusters get their
 * endpoints from tollgate, and Redis URLs in the config name the redis service.
 */
function checkBackends({ services, clusters, tollgate, problems }: Context): void {
  const mock = services.get('mock-llm')!;
  const mockPort = Number(flagValue(mock.command, '--port') ?? 8000);
  problems.unless(
    ANY_ADDRESS.includes(flagValue(mock.command, '--host') ?? '127.0.0.1'),
    'mock-llm: listens on loopback only (--host 0.0.0.0 is needed in a container)',
  );
  problems.unless(
    mock.ipv4Addresses.length > 0,
    'mock-llm: has no fixed ipv4_address for EDS to publish',
  );

  for (const cluster of clusters.filter((candidate) => candidate.type === 'EDS')) {
    problems.unless(
      grpcClusterOf(edsSource(cluster)) === 'tollgate',
      `envoy.yaml: EDS cluster ${cluster.name} does not get its endpoints from tollgate`,
    );

    const resource = String(get(cluster.raw, 'eds_cluster_config', 'service_name') ?? cluster.name);
    const published = tollgate.edsClusters.get(resource);
    problems.unless(
      tollgate.edsClusters.size === 0 || published !== undefined,
      `config/tollgate.yaml: no cluster ${resource} for Envoy's EDS cluster ${cluster.name}`,
    );

    for (const { address, port } of published ?? []) {
      const owner = [...services.values()].find((service) =>
        service.ipv4Addresses.includes(address),
      );
      problems.unless(
        owner !== undefined,
        `config/tollgate.yaml: endpoint ${address} of ${resource} ` +
          "is no compose service's ipv4_address",
      );
      problems.unless(
        owner !== mock || port === mockPort,
        `config/tollgate.yaml: endpoint port ${port} of ${resource}, ` +
          `mock-llm listens on ${mockPort}`,
      );
    }
  }

  for (const url of tollgate.redisUrls) {
    const { hostname, port } = new URL(url);
    problems.unless(
      services.has(hostname) && ['', '6379'].includes(port),
      `config/tollgate.yaml: ${url} is not the compose redis service (redis:6379)`,
    );
  }
}

/** node:20-slim, npm ci, a non-root user, tollgate's ports exposed. */
function checkDockerfile({ files, tollgate, problems }: Context): void {
  const lines = files.dockerfile.split('\n').map((line) => line.trim());
  const has = (pattern: RegExp) => lines.some((line) => pattern.test(line));

  problems.unless(has(/^FROM node:20-slim\b/), 'Dockerfile: not built FROM node:20-slim');
  problems.unless(has(/\bnpm ci\b/), 'Dockerfile: does not install with npm ci');

  const user = lines
    .filter((line) => line.startsWith('USER '))
    .at(-1)
    ?.slice('USER '.length)
    .trim();
  problems.unless(
    user !== undefined && !['root', '0'].includes(user),
    'Dockerfile: the final image runs as root',
  );

  const exposed = lines
    .filter((line) => line.startsWith('EXPOSE '))
    .flatMap((line) => line.slice('EXPOSE '.length).split(/\s+/).map(Number));
  for (const port of [portOf(tollgate.grpcAddress), portOf(tollgate.adminAddress)]) {
    problems.unless(exposed.includes(port ?? 0), `Dockerfile: does not EXPOSE ${port}`);
  }
}

const CHECKS: ReadonlyArray<(context: Context) => void> = [
  checkFiles,
  checkEnvoyService,
  checkTollgateService,
  checkEnvoyToTollgate,
  checkNames,
  checkLimits,
  checkDeadlines,
  checkBackends,
  checkDockerfile,
];

/** The addresses tollgate listens on in its container: flags first, then its config. */
function tollgateAddresses(service: ComposeService, tollgate: TollgateSettings) {
  return {
    grpc: flagValue(service.command, '--grpc-address') ?? tollgate.grpcAddress,
    admin: flagValue(service.command, '--admin-address') ?? tollgate.adminAddress,
  };
}

function mountedFrom(service: ComposeService, target: string, source: string): boolean {
  const mount = service.bindMounts.find((candidate) => candidate.target === target);
  return mount !== undefined && path.normalize(mount.source) === path.normalize(source);
}

function edsSource(cluster: ClusterView): unknown {
  return get(cluster.raw, 'eds_cluster_config', 'eds_config', 'api_config_source');
}

type TollgateSettings = ReturnType<typeof tollgateSettings>;

/** What the checks need from config/tollgate.yaml, with tollgate's defaults filled. */
function tollgateSettings(config: unknown) {
  const value = <T>(fallback: T, ...steps: string[]): T =>
    (get(config, ...steps) as T | undefined) ?? fallback;

  return {
    grpcAddress: value(TOLLGATE_DEFAULTS.grpcAddress, 'server', 'grpc_address'),
    adminAddress: value(TOLLGATE_DEFAULTS.adminAddress, 'server', 'admin_address'),
    drainTimeoutSeconds: value(
      TOLLGATE_DEFAULTS.drainTimeoutSeconds,
      'server',
      'drain_timeout_seconds',
    ),
    maxMessageBytes: value(TOLLGATE_DEFAULTS.maxMessageBytes, 'server', 'max_message_bytes'),
    decisionDeadlineMs: value(
      TOLLGATE_DEFAULTS.decisionDeadlineMs,
      'server',
      'decision_deadline_ms',
    ),
    maxRequestBodyBytes: value(
      TOLLGATE_DEFAULTS.maxRequestBodyBytes,
      'usage',
      'max_request_body_bytes',
    ),
    metadataNamespace: value(TOLLGATE_DEFAULTS.metadataNamespace, 'usage', 'metadata', 'namespace'),
    metadataKey: value(TOLLGATE_DEFAULTS.metadataKey, 'usage', 'metadata', 'key'),
    breakerUpstreams: Object.keys(value({}, 'circuit_breakers', 'upstreams')),
    edsClusters: edsClustersOf(get(config, 'clusters')),
    redisUrls: allStrings(config).filter((text) => /^rediss?:\/\//.test(text)),
  };
}

/** tollgate's `clusters:` (a list of `{name, endpoints}`, or a map by name): name → endpoints. */
function edsClustersOf(clusters: unknown): Map<string, Array<{ address: string; port: number }>> {
  const entries = Array.isArray(clusters)
    ? clusters
    : Object.entries(clusters ?? {}).map(([name, entry]) => ({ name, ...(entry as object) }));

  return new Map(
    entries.map((cluster) => [
      String(get(cluster, 'name')),
      (get(cluster, 'endpoints') as Array<{ address: string; port: number }> | undefined) ?? [],
    ]),
  );
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}
