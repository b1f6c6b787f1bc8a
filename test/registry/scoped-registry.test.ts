import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DuplicateExportError,
  isDuplicateExportError,
} from '../../src/registry/duplicate-export-error.js';
import { QualifiedId } from '../../src/registry/qualified-id.js';
import { Scope } from '../../src/registry/scope.js';
import { ScopedRegistry } from '../../src/registry/scoped-registry.js';

const id = (text: string) => QualifiedId.parse(text);

const PAYMENTS = Scope.service('production', 'payments');

/** timeout at every level, plus an exported shared-auth in production. */
function policies(): ScopedRegistry<string> {
  const registry = new ScopedRegistry<string>();
  registry.insert(id('timeout'), '30s global');
  registry.insert(id('production:timeout'), '10s production');
  registry.insert(id('production:payments:timeout'), '5s payments');
  registry.insertExported(id('production:shared-auth'), 'auth from production');
  return registry;
}

describe('ScopedRegistry', () => {
  describe('insert, get, contains, remove', () => {
    it('returns the replaced item from insert and undefined for a new id', () => {
      const registry = new ScopedRegistry<string>();

      assert.equal(registry.insert(id('prod:timeout'), 'a'), undefined);
      assert.equal(registry.insert(id('prod:timeout'), 'b'), 'a');
      assert.equal(registry.get(id('prod:timeout')), 'b');
    });

    it('keeps items at different scopes apart', () => {
      const registry = policies();

      assert.equal(registry.get(id('timeout')), '30s global');
      assert.equal(registry.get(QualifiedId.namespaced('production', 'timeout')), '10s production');
      assert.equal(
        registry.get(QualifiedId.inService('production', 'payments', 'timeout')),
        '5s payments',
      );
      assert.equal(registry.len(), 4);
    });

    it('looks items up by canonical id', () => {
      const registry = policies();

      assert.equal(registry.getByCanonical('production:payments:timeout'), '5s payments');
      assert.equal(registry.getByCanonical('staging:timeout'), undefined);
      assert.throws(() => registry.getByCanonical('production::timeout'), /service is empty/);
    });

    it('checks existence by exact id, without resolution', () => {
      const registry = policies();

      assert.equal(registry.contains(id('production:payments:timeout')), true);
      assert.equal(registry.contains(id('production:orders:timeout')), false);
    });

    it('returns the removed item from remove and leaves the other scopes alone', () => {
      const registry = policies();

      assert.equal(registry.remove(id('production:timeout')), '10s production');
      assert.equal(registry.remove(id('production:timeout')), undefined);
      assert.equal(registry.get(id('timeout')), '30s global');
      assert.equal(registry.get(id('production:payments:timeout')), '5s payments');
    });

    it('lists keys as ids in insertion order', () => {
      assert.deepEqual(
        policies()
          .keys()
          .map((key) => key.canonical),
        ['timeout', 'production:timeout', 'production:payments:timeout', 'production:shared-auth'],
      );
    });
  });

  describe('resolve', () => {
    it('finds the service item first', () => {
      const found = policies().resolveEntry('timeout', PAYMENTS);

      assert.equal(found?.item, '5s payments');
      assert.equal(found?.step, 'service');
      assert.equal(found?.id.canonical, 'production:payments:timeout');
    });

    it('falls back to the namespace item when the service has none', () => {
      const found = policies().resolveEntry('timeout', Scope.service('production', 'orders'));

      assert.equal(found?.item, '10s production');
      assert.equal(found?.step, 'namespace');
    });

    it('falls back to the exported item when neither service nor namespace has one', () => {
      const found = policies().resolveEntry('shared-auth', Scope.service('staging', 'web'));

      assert.equal(found?.item, 'auth from production');
      assert.equal(found?.step, 'exported');
      assert.equal(found?.id.canonical, 'production:shared-auth');
    });

    it('falls back to the global item last', () => {
      const found = policies().resolveEntry('timeout', Scope.service('staging', 'web'));

      assert.equal(found?.item, '30s global');
      assert.equal(found?.step, 'global');
    });

    it('prefers an exported item over a global one of the same name', () => {
      const registry = policies();
      registry.insert(id('shared-auth'), 'global auth');

      assert.equal(
        registry.resolve('shared-auth', Scope.service('staging', 'web')),
        'auth from production',
      );
    });

    it('prefers the namespace item over an item another namespace exported', () => {
      const registry = policies();
      registry.insert(id('staging:shared-auth'), 'staging auth');

      assert.equal(registry.resolve('shared-auth', Scope.namespace('staging')), 'staging auth');
    });

    it('starts a namespace scope at the namespace and the global scope at the exports', () => {
      const registry = policies();

      assert.equal(registry.resolve('timeout', Scope.namespace('production')), '10s production');
      assert.equal(registry.resolve('timeout', Scope.global()), '30s global');
      assert.equal(
        registry.resolveEntry('shared-auth', Scope.global())?.step,
        'exported',
        'the global scope sees exports',
      );
    });

    it('never resolves to another service or namespace that did not export', () => {
      const registry = new ScopedRegistry<string>();
      registry.insert(id('production:payments:secret'), 'payments only');
      registry.insert(id('production:private'), 'production only');

      assert.equal(registry.resolve('secret', Scope.service('production', 'orders')), undefined);
      assert.equal(registry.resolve('private', Scope.service('staging', 'web')), undefined);
    });

    it('resolves names with colons through the service step and exports only', () => {
      const registry = new ScopedRegistry<string>();
      registry.insert(id('production:payments:llm:8080'), 'service breaker');
      registry.insertExported(id('shared:edge:api:443'), 'exported breaker');

      assert.equal(registry.resolve('llm:8080', PAYMENTS), 'service breaker');
      assert.equal(registry.resolve('api:443', PAYMENTS), 'exported breaker');
      assert.equal(registry.resolve('payments:llm:8080', Scope.namespace('production')), undefined);
    });

    it('refuses a scope whose parts could not form an id', () => {
      assert.throws(() => policies().resolve('timeout', Scope.namespace('a:b')), RangeError);
      assert.throws(() => policies().resolve('timeout', Scope.service('a', '')), RangeError);
    });
  });

  describe('exports', () => {
    it('marks exported items and names their exporter', () => {
      const registry = policies();

      assert.equal(registry.isExported(id('production:shared-auth')), true);
      assert.equal(registry.isExported(id('production:timeout')), false);
      assert.equal(registry.exporter('shared-auth')?.canonical, 'production:shared-auth');
    });

    it('refuses a second export of the same name, naming both ids, and changes nothing', () => {
      const registry = policies();

      assert.throws(
        () => registry.insertExported(id('staging:web:shared-auth'), 'other auth'),
        (error: unknown) => {
          assert.ok(error instanceof DuplicateExportError);
          assert.ok(isDuplicateExportError(error));
          assert.equal(error.existing.canonical, 'production:shared-auth');
          assert.equal(error.refused.canonical, 'staging:web:shared-auth');
          assert.match(error.message, /production:shared-auth and staging:web:shared-auth/);
          return true;
        },
      );
      assert.equal(registry.contains(id('staging:web:shared-auth')), false);
      assert.equal(registry.resolve('shared-auth', PAYMENTS), 'auth from production');
    });

    it('lets the exporter re-export its own id with a new item', () => {
      const registry = policies();

      const previous = registry.insertExported(id('production:shared-auth'), 'auth v2');

      assert.equal(previous, 'auth from production');
      assert.equal(registry.resolve('shared-auth', Scope.global()), 'auth v2');
    });

    it('removes only the export when an exported item is removed', () => {
      const registry = policies();
      registry.insert(id('shared-auth'), 'global auth');
      registry.insert(id('staging:shared-auth'), 'staging auth');

      registry.remove(id('production:shared-auth'));

      assert.equal(registry.exporter('shared-auth'), undefined);
      assert.equal(registry.resolve('shared-auth', PAYMENTS), 'global auth');
      assert.equal(registry.get(id('staging:shared-auth')), 'staging auth');
      assert.equal(registry.len(), 5);
    });

    it('frees the name for another exporter once the first is removed', () => {
      const registry = policies();
      registry.remove(id('production:shared-auth'));

      registry.insertExported(id('staging:shared-auth'), 'staging auth');

      assert.equal(registry.resolve('shared-auth', PAYMENTS), 'staging auth');
    });

    it('drops the export when the id is inserted again without export', () => {
      const registry = policies();

      registry.insert(id('production:shared-auth'), 'private now');

      assert.equal(registry.isExported(id('production:shared-auth')), false);
      assert.equal(registry.resolve('shared-auth', Scope.service('staging', 'web')), undefined);
    });
  });

  describe('replaceAll and snapshot', () => {
    it('swaps items and exports at once and returns a view of the old ones', () => {
      const registry = policies();

      const old = registry.replaceAll([
        { id: id('timeout'), item: '60s global' },
        { id: id('staging:shared-auth'), item: 'staging auth', exported: true },
      ]);

      assert.equal(old.resolve('timeout', PAYMENTS), '5s payments');
      assert.equal(old.resolve('shared-auth', PAYMENTS), 'auth from production');
      assert.equal(registry.resolve('timeout', PAYMENTS), '60s global');
      assert.equal(
        registry.resolveEntry('shared-auth', PAYMENTS)?.id.canonical,
        'staging:shared-auth',
      );
      assert.equal(registry.len(), 2);
    });

    it('rejects a duplicate export before changing anything', () => {
      const registry = policies();

      assert.throws(
        () =>
          registry.replaceAll([
            { id: id('a:shared'), item: '1', exported: true },
            { id: id('b:c:shared'), item: '2', exported: true },
          ]),
        /"shared" is exported by both a:shared and b:c:shared/,
      );
      assert.equal(registry.len(), 4);
      assert.equal(registry.resolve('timeout', PAYMENTS), '5s payments');
    });

    it('keeps a snapshot exactly as it was through every kind of write', () => {
      const registry = policies();
      const snapshot = registry.snapshot();

      registry.insert(id('production:payments:timeout'), 'changed');
      registry.remove(id('production:shared-auth'));
      registry.insertExported(id('staging:timeout'), 'exported staging');
      registry.replaceAll([]);

      assert.equal(snapshot.resolve('timeout', PAYMENTS), '5s payments');
      assert.equal(
        snapshot.resolveEntry('shared-auth', Scope.service('staging', 'web'))?.step,
        'exported',
      );
      assert.equal(snapshot.getByCanonical('staging:timeout'), undefined);
      assert.equal(snapshot.len(), 4);
      assert.deepEqual(
        snapshot.entries().map((entry) => [entry.id.canonical, entry.exported]),
        [
          ['timeout', false],
          ['production:timeout', false],
          ['production:payments:timeout', false],
          ['production:shared-auth', true],
        ],
      );
      assert.equal(registry.len(), 0);
    });
  });
});
