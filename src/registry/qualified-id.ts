import { Scope } from './scope.js';

/** The result of {@link QualifiedId.tryParse}: the id, or why the text is not one. */
export type QualifiedIdParse =
  | { readonly ok: true; readonly id: QualifiedId }
  | { readonly ok: false; readonly message: string };

const FORMS = 'expected name, namespace:name or namespace:service:name';

/**
 * The full name of a scoped item. Canonical forms: `name` (global),
 * `namespace:name` and `namespace:service:name`. Namespaces and services
 * never contain a colon; a service-scoped name may (everything after the
 * second colon is the name), while global and namespace names may not, or
 * their canonical form would read as a deeper scope. No part may be empty.
 */
export class QualifiedId {
  private constructor(
    /** Where the item lives. */
    readonly scope: Scope,
    /** The item's name within its scope. */
    readonly name: string,
    /** The canonical form, computed once. */
    readonly canonical: string,
  ) {}

  /** A process-wide id. Throws a `RangeError` if `name` is empty or contains a colon. */
  static global(name: string): QualifiedId {
    return QualifiedId.of(Scope.global(), name);
  }

  /** An id in `namespace`. Throws a `RangeError` for an empty part or a colon in either. */
  static namespaced(namespace: string, name: string): QualifiedId {
    return QualifiedId.of(Scope.namespace(namespace), name);
  }

  /** An id in a service of a namespace. Throws a `RangeError` for an empty part or a bad colon. */
  static inService(namespace: string, service: string, name: string): QualifiedId {
    return QualifiedId.of(Scope.service(namespace, service), name);
  }

  /** The id of `name` in `scope`. Throws a `RangeError` when the parts are not a valid id. */
  static of(scope: Scope, name: string): QualifiedId {
    const problem = problemOf(scope, name);
    if (problem !== undefined) throw new RangeError(`invalid id: ${problem}`);

    return new QualifiedId(scope, name, canonicalOf(scope, name));
  }

  /** Parses a canonical id. Throws a `RangeError` saying which part is wrong. */
  static parse(text: string): QualifiedId {
    const parsed = QualifiedId.tryParse(text);
    if (!parsed.ok) throw new RangeError(parsed.message);

    return parsed.id;
  }

  /** Parses a canonical id, returning the problem as a value instead of throwing. */
  static tryParse(text: string): QualifiedIdParse {
    const first = text.indexOf(':');
    const second = first < 0 ? -1 : text.indexOf(':', first + 1);

    let scope: Scope;
    let name: string;
    if (first < 0) {
      [scope, name] = [Scope.global(), text];
    } else if (second < 0) {
      [scope, name] = [Scope.namespace(text.slice(0, first)), text.slice(first + 1)];
    } else {
      scope = Scope.service(text.slice(0, first), text.slice(first + 1, second));
      name = text.slice(second + 1);
    }

    const problem = problemOf(scope, name);
    if (problem !== undefined) {
      return { ok: false, message: `${JSON.stringify(text)} is not a valid id: ${problem}` };
    }
    return { ok: true, id: new QualifiedId(scope, name, canonicalOf(scope, name)) };
  }

  /** The namespace, for namespace and service ids. */
  get namespace(): string | undefined {
    return this.scope.kind === 'global' ? undefined : this.scope.namespace;
  }

  /** The service, for service ids. */
  get service(): string | undefined {
    return this.scope.kind === 'service' ? this.scope.service : undefined;
  }

  /** Whether `other` names the same item. */
  equals(other: QualifiedId): boolean {
    return this.canonical === other.canonical;
  }

  /** The canonical form. */
  toString(): string {
    return this.canonical;
  }

  /** The canonical form, so that ids serialise as plain strings on /status. */
  toJSON(): string {
    return this.canonical;
  }
}

function canonicalOf(scope: Scope, name: string): string {
  switch (scope.kind) {
    case 'global':
      return name;
    case 'namespace':
      return `${scope.namespace}:${name}`;
    case 'service':
      return `${scope.namespace}:${scope.service}:${name}`;
  }
}

function problemOf(scope: Scope, name: string): string | undefined {
  if (scope.kind !== 'global') {
    const namespace = partProblem('namespace', scope.namespace);
    if (namespace !== undefined) return namespace;
  }
  if (scope.kind === 'service') {
    const service = partProblem('service', scope.service);
    if (service !== undefined) return service;
  }

  if (name === '') return `the name is empty (${FORMS})`;
  if (scope.kind !== 'service' && name.includes(':')) {
    return `a ${scope.kind} name cannot contain ":" (only service-scoped names can; ${FORMS})`;
  }
  return undefined;
}

function partProblem(part: 'namespace' | 'service', value: string): string | undefined {
  if (value === '') return `the ${part} is empty (${FORMS})`;
  if (value.includes(':')) return `a ${part} cannot contain ":"`;
  return undefined;
}
