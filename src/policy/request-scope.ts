import type { RequestFacts } from '../engine/request-facts.js';
import { Scope } from '../registry/scope.js';
import { isScopePart } from './policy-name.js';
import type { ScopeFile } from './scope-schema.js';

/** The Envoy attribute that names the route a request matched. */
export const ROUTE_NAME_ATTRIBUTE = 'xds.route_name';

/** One place a request's scope is read from, compiled. */
export type ScopeSource =
  | { readonly kind: 'headers'; readonly namespace: string; readonly service?: string }
  | { readonly kind: 'metadata'; readonly namespace: string; readonly path: readonly string[] }
  | { readonly kind: 'route'; readonly routes: ReadonlyMap<string, Scope> };

/**
 * Reads `NAMESPACE` or `NAMESPACE:SERVICE`. Undefined when either part is
 * empty, too long, not visible ASCII, or the text has more than one colon.
 */
export function parseScopeText(text: string): Scope | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return isScopePart(text) ? Scope.namespace(text) : undefined;

  const namespace = text.slice(0, colon);
  const service = text.slice(colon + 1);
  if (!isScopePart(namespace) || !isScopePart(service)) return undefined;
  return Scope.service(namespace, service);
}

/**
 * The scope a request's policies are resolved from: the first source that
 * names a usable namespace wins, with the service from that same source (a
 * service value that is not usable leaves the namespace scope). A request no
 * source places is in the global scope. Whether the namespace is configured
 * does not matter here: an unknown one resolves through exports and globals.
 */
export function resolveScope(sources: readonly ScopeSource[], facts: RequestFacts): Scope {
  for (const source of sources) {
    const scope = readSource(source, facts);
    if (scope) return scope;
  }
  return Scope.global();
}

/** Compiles the `scope:` section. */
export function compileScopeSources(file: ScopeFile): ScopeSource[] {
  return file.sources.map((entry): ScopeSource => {
    if (entry.headers) {
      const { namespace, service } = entry.headers;
      return { kind: 'headers', namespace, service: service ?? undefined };
    }
    if (entry.metadata) {
      const { namespace, path } = entry.metadata;
      return { kind: 'metadata', namespace, path: path.split('.') };
    }

    const routes = new Map<string, Scope>();
    for (const [route, text] of Object.entries(entry.route ?? {})) {
      const scope = parseScopeText(text);
      if (scope) routes.set(route, scope);
    }
    return { kind: 'route', routes };
  });
}

function readSource(source: ScopeSource, facts: RequestFacts): Scope | undefined {
  switch (source.kind) {
    case 'headers': {
      const namespace = facts.headers.get(source.namespace);
      if (!isScopePart(namespace)) return undefined;

      const service = source.service === undefined ? undefined : facts.headers.get(source.service);
      return isScopePart(service) ? Scope.service(namespace, service) : Scope.namespace(namespace);
    }
    case 'metadata': {
      const value = valueAt(facts.metadata?.get(source.namespace), source.path);
      return typeof value === 'string' ? parseScopeText(value) : undefined;
    }
    case 'route': {
      const route = facts.attributes.get(ROUTE_NAME_ATTRIBUTE);
      return route === undefined ? undefined : source.routes.get(route);
    }
  }
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const part of path) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
