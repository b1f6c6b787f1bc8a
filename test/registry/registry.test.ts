import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Registry } from '../../src/registry/registry.js';

function routes(): Registry<string> {
  return new Registry([
    ['api-v1', 'route one'],
    ['api-v2', 'route two'],
  ]);
}

describe('Registry', () => {
  it('starts empty, or with the items it is given', () => {
    assert.equal(new Registry<string>().len(), 0);
    assert.deepEqual(routes().keys(), ['api-v1', 'api-v2']);
  });

  it('returns undefined from insert when the key is new, and the replaced item otherwise', () => {
    const registry = new Registry<string>();

    assert.equal(registry.insert('api-v1', 'first'), undefined);
    assert.equal(registry.insert('api-v1', 'second'), 'first');
    assert.equal(registry.get('api-v1'), 'second');
    assert.equal(registry.len(), 1);
  });

  it('gets and checks items by key', () => {
    const registry = routes();

    assert.equal(registry.get('api-v2'), 'route two');
    assert.equal(registry.get('api-v3'), undefined);
    assert.equal(registry.contains('api-v1'), true);
    assert.equal(registry.contains('api-v3'), false);
  });

  it('returns the removed item from remove, and undefined for a missing key', () => {
    const registry = routes();

    assert.equal(registry.remove('api-v1'), 'route one');
    assert.equal(registry.remove('api-v1'), undefined);
    assert.deepEqual(registry.keys(), ['api-v2']);
    assert.equal(registry.len(), 1);
  });

  it('keeps an item stored as undefined distinct from a missing one', () => {
    const registry = new Registry<string | undefined>([['empty', undefined]]);

    assert.equal(registry.contains('empty'), true);
    assert.equal(registry.remove('empty'), undefined);
    assert.equal(registry.contains('empty'), false);
  });

  describe('replaceAll', () => {
    it('swaps every item at once and returns the old map', () => {
      const registry = routes();

      const old = registry.replaceAll(new Map([['api-v3', 'route three']]));

      assert.deepEqual(
        [...old],
        [
          ['api-v1', 'route one'],
          ['api-v2', 'route two'],
        ],
      );
      assert.deepEqual(registry.keys(), ['api-v3']);
    });

    it('copies its input, so changing the input later changes nothing', () => {
      const registry = new Registry<string>();
      const input = new Map([['a', '1']]);

      registry.replaceAll(input);
      input.set('b', '2');

      assert.deepEqual(registry.keys(), ['a']);
    });

    it('returns an old map that later writes do not reach', () => {
      const registry = routes();
      const old = registry.replaceAll([['api-v3', 'route three']]);

      registry.insert('api-v1', 'new route one');

      assert.equal(old.get('api-v1'), 'route one');
      assert.equal(old.has('api-v3'), false);
    });
  });

  describe('snapshot', () => {
    it('keeps the items it was taken with through inserts, removals and replacements', () => {
      const registry = routes();
      const snapshot = registry.snapshot();

      registry.insert('api-v1', 'changed');
      registry.insert('api-v3', 'added');
      registry.remove('api-v2');
      registry.replaceAll([['other', 'x']]);

      assert.deepEqual(
        [...snapshot],
        [
          ['api-v1', 'route one'],
          ['api-v2', 'route two'],
        ],
      );
      assert.equal(snapshot.size, 2);
    });

    it('is shared until the next write, which copies the map first', () => {
      const registry = routes();
      const first = registry.snapshot();
      const second = registry.snapshot();

      registry.insert('api-v9', 'late');

      assert.equal(first.has('api-v9'), false);
      assert.equal(second.has('api-v9'), false);
      assert.equal(registry.snapshot().has('api-v9'), true);
    });

    it('offers no way to change the registry', () => {
      const snapshot = routes().snapshot() as unknown as Record<string, unknown>;

      assert.equal(typeof snapshot.set, 'undefined');
      assert.equal(typeof snapshot.delete, 'undefined');
      assert.equal(typeof snapshot.clear, 'undefined');
    });

    it('iterates like a map: entries, keys, values and forEach', () => {
      const snapshot = routes().snapshot();
      const seen: string[] = [];
      snapshot.forEach((value, key, map) => seen.push(`${key}=${value}/${map.size}`));

      assert.deepEqual([...snapshot.keys()], ['api-v1', 'api-v2']);
      assert.deepEqual([...snapshot.values()], ['route one', 'route two']);
      assert.deepEqual([...snapshot.entries()].length, 2);
      assert.deepEqual(seen, ['api-v1=route one/2', 'api-v2=route two/2']);
    });
  });

  describe('withRead', () => {
    it('passes the whole map and returns what the callback returns', () => {
      const count = routes().withRead((items) =>
        [...items.keys()].filter((k) => k.startsWith('api')),
      );

      assert.deepEqual(count, ['api-v1', 'api-v2']);
    });

    it('passes a map that later writes do not change, even if the callback keeps it', () => {
      const registry = routes();
      const kept = registry.withRead((items) => items);

      registry.remove('api-v1');

      assert.equal(kept.has('api-v1'), true);
    });
  });

  describe('withWrite', () => {
    it('applies the callback changes and returns what it returns', () => {
      const registry = routes();

      const removed = registry.withWrite((items) => {
        items.delete('api-v2');
        items.set('beta', 'route beta');
        return 1;
      });

      assert.equal(removed, 1);
      assert.deepEqual(registry.keys(), ['api-v1', 'beta']);
    });

    it('leaves the registry unchanged when the callback throws', () => {
      const registry = routes();

      assert.throws(
        () =>
          registry.withWrite((items) => {
            items.clear();
            throw new Error('half done');
          }),
        /half done/,
      );
      assert.deepEqual(registry.keys(), ['api-v1', 'api-v2']);
    });

    it('refuses an async callback and keeps none of its changes', async () => {
      const registry = routes();

      assert.throws(
        () =>
          registry.withWrite(async (items) => {
            items.clear();
          }),
        /must be synchronous/,
      );
      await Promise.resolve();
      assert.deepEqual(registry.keys(), ['api-v1', 'api-v2']);
    });

    it('shows no change to a snapshot taken before it', () => {
      const registry = routes();
      const snapshot = registry.snapshot();

      registry.withWrite((items) => items.clear());

      assert.equal(snapshot.size, 2);
      assert.equal(registry.len(), 0);
    });
  });
});
