/**
 * Where an item lives, or where a lookup starts: the whole process, one
 * namespace (a team), or one service inside a namespace.
 */
export type Scope =
  | { readonly kind: 'global' }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'service'; readonly namespace: string; readonly service: string };

/** The kind of a {@link Scope}. */
export type ScopeKind = Scope['kind'];

const GLOBAL: Scope = Object.freeze({ kind: 'global' });

/** Builds scopes. Parts are not checked here; {@link QualifiedId} checks the ids built on them. */
export const Scope = {
  /** The process-wide scope. */
  global(): Scope {
    return GLOBAL;
  },

  /** The scope of one namespace. */
  namespace(namespace: string): Scope {
    return Object.freeze({ kind: 'namespace', namespace });
  },

  /** The scope of one service in a namespace. */
  service(namespace: string, service: string): Scope {
    return Object.freeze({ kind: 'service', namespace, service });
  },
} as const;

/** A scope as people write it: `global`, `namespace payments`, `service payments:api`. */
export function describeScope(scope: Scope): string {
  switch (scope.kind) {
    case 'global':
      return 'global';
    case 'namespace':
      return `namespace ${scope.namespace}`;
    case 'service':
      return `service ${scope.namespace}:${scope.service}`;
  }
}
