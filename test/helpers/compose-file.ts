/**
 * Read-only accessors over a parsed docker-compose file (plain YAML data), in
 * both the short (`'8000:8000'`, `./a:/b:ro`) and long (`{target, published}`)
 * syntaxes the Compose specification allows.
 */

/** One service of a compose file. */
export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  /** Build context, relative to the compose file. */
  readonly buildContext: string | undefined;
  readonly command: readonly string[];
  /** Container ports published to the host. */
  readonly publishedPorts: readonly number[];
  /** Bind mounts: host path (relative to the compose file) → container path. */
  readonly bindMounts: ReadonlyArray<{ source: string; target: string }>;
  /** Fixed addresses on compose networks. */
  readonly ipv4Addresses: readonly string[];
  readonly stopGraceSeconds: number | undefined;
  /** The healthcheck's test command, joined with spaces. */
  readonly healthcheck: string | undefined;
  readonly raw: Record<string, unknown>;
}

/** Every service of the compose file, by name. */
export function composeServices(compose: unknown): Map<string, ComposeService> {
  const services = record((compose as { services?: unknown } | null)?.services);

  return new Map(
    Object.entries(services).map(([name, value]) => {
      const raw = record(value);
      return [name, serviceView(name, raw)];
    }),
  );
}

/** The value after `flag` in a command (`--port 8000` or `--port=8000`). */
export function flagValue(command: readonly string[], ...flags: string[]): string | undefined {
  for (const [index, argument] of command.entries()) {
    if (flags.includes(argument)) return command[index + 1];

    const flag = flags.find((name) => argument.startsWith(`${name}=`));
    if (flag) return argument.slice(flag.length + 1);
  }
  return undefined;
}

/** The port of `host:port` or `[v6]:port`. */
export function portOf(address: string | undefined): number | undefined {
  const port = Number(address?.slice(address.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** The host of `host:port` or `[v6]:port`, without brackets. */
export function hostOf(address: string | undefined): string | undefined {
  if (address === undefined || !address.includes(':')) return undefined;
  return address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
}

function serviceView(name: string, raw: Record<string, unknown>): ComposeService {
  const build = raw.build;
  const networks = record(raw.networks);

  return {
    name,
    image: typeof raw.image === 'string' ? raw.image : undefined,
    buildContext: typeof build === 'string' ? build : (record(build).context as string | undefined),
    command: words(raw.command),
    publishedPorts: list(raw.ports)
      .map(containerPort)
      .filter((port) => port !== undefined),
    bindMounts: list(raw.volumes).flatMap(bindMount),
    ipv4Addresses: Object.values(networks)
      .map((network) => record(network).ipv4_address)
      .filter((address): address is string => typeof address === 'string'),
    stopGraceSeconds: durationSeconds(raw.stop_grace_period),
    healthcheck: words(record(raw.healthcheck).test).join(' ') || undefined,
    raw,
  };
}

function containerPort(entry: unknown): number | undefined {
  if (typeof entry === 'number') return entry;
  if (typeof entry === 'string') return Number(entry.split('/')[0]!.split(':').at(-1));
  const target = record(entry).target;
  return typeof target === 'number' ? target : undefined;
}

function bindMount(entry: unknown): Array<{ source: string; target: string }> {
  if (typeof entry === 'string') {
    const [source = '', target = ''] = entry.split(':');
    const isPath = source.startsWith('.') || source.startsWith('/');
    return isPath ? [{ source, target }] : [];
  }

  const { type, source, target } = record(entry);
  if (type !== 'bind' || typeof source !== 'string' || typeof target !== 'string') return [];
  return [{ source, target }];
}

/** Compose durations: `20s`, `1m30s`, `500ms`. */
function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;

  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  let seconds = 0;
  for (const match of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)) {
    seconds += Number(match[1]) * units[match[2]!]!;
  }
  return seconds;
}

function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return [];
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
