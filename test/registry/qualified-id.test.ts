import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { QualifiedId } from '../../src/registry/qualified-id.js';
import { describeScope, Scope } from '../../src/registry/scope.js';

describe('QualifiedId', () => {
  const valid: ReadonlyArray<[string, Scope, string]> = [
    ['timeout', Scope.global(), 'timeout'],
    ['production:timeout', Scope.namespace('production'), 'timeout'],
    ['production:payments:timeout', Scope.service('production', 'payments'), 'timeout'],
    ['production:payments:llm:8080', Scope.service('production', 'payments'), 'llm:8080'],
    ['a:b:c::d', Scope.service('a', 'b'), 'c::d'],
  ];

  for (const [text, scope, name] of valid) {
    it(`parses ${text} into ${describeScope(scope)}, name ${name}, and prints it back`, () => {
      const id = QualifiedId.parse(text);

      assert.deepEqual(id.scope, scope);
      assert.equal(id.name, name);
      assert.equal(id.toString(), text);
      assert.equal(id.canonical, text);
      assert.equal(JSON.stringify({ id }), JSON.stringify({ id: text }));
    });
  }

  it('builds the same ids from the factories', () => {
    assert.ok(QualifiedId.global('timeout').equals(QualifiedId.parse('timeout')));
    assert.ok(QualifiedId.namespaced('prod', 'timeout').equals(QualifiedId.parse('prod:timeout')));
    assert.ok(
      QualifiedId.inService('prod', 'pay', 'timeout').equals(QualifiedId.parse('prod:pay:timeout')),
    );
    assert.ok(!QualifiedId.global('timeout').equals(QualifiedId.parse('prod:timeout')));
  });

  it('exposes the namespace and service of each kind of id', () => {
    const service = QualifiedId.inService('prod', 'pay', 'timeout');
    const namespaced = QualifiedId.namespaced('prod', 'timeout');

    assert.deepEqual([service.namespace, service.service], ['prod', 'pay']);
    assert.deepEqual([namespaced.namespace, namespaced.service], ['prod', undefined]);
    assert.deepEqual(
      [QualifiedId.global('t').namespace, QualifiedId.global('t').service],
      [undefined, undefined],
    );
  });

  const invalid: ReadonlyArray<[string, RegExp]> = [
    ['', /the name is empty/],
    [':timeout', /the namespace is empty/],
    ['production:', /the name is empty/],
    ['production::timeout', /the service is empty/],
    ['::', /the namespace is empty/],
    ['production:payments:', /the name is empty/],
  ];

  for (const [text, why] of invalid) {
    it(`rejects ${JSON.stringify(text)} saying which part is wrong`, () => {
      assert.throws(
        () => QualifiedId.parse(text),
        (error: Error) => {
          assert.ok(error instanceof RangeError);
          assert.match(error.message, why);
          assert.ok(error.message.includes(JSON.stringify(text)), error.message);
          assert.match(error.message, /namespace:service:name/);
          return true;
        },
      );

      const result = QualifiedId.tryParse(text);
      assert.equal(result.ok, false);
    });
  }

  it('returns the id as a value from tryParse', () => {
    const result = QualifiedId.tryParse('prod:timeout');

    assert.ok(result.ok);
    assert.equal(result.id.canonical, 'prod:timeout');
  });

  it('refuses factory parts whose canonical form would read as another id', () => {
    assert.throws(() => QualifiedId.global('prod:timeout'), /global name cannot contain ":"/);
    assert.throws(() => QualifiedId.namespaced('prod', 'a:b'), /namespace name cannot contain/);
    assert.throws(() => QualifiedId.namespaced('pr:od', 'a'), /a namespace cannot contain ":"/);
    assert.throws(() => QualifiedId.inService('prod', 'p:ay', 'a'), /a service cannot contain/);
    assert.throws(() => QualifiedId.inService('prod', '', 'a'), /the service is empty/);
    assert.throws(() => QualifiedId.global(''), RangeError);
  });
});
