import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { UpstreamSource } from '../../src/config/tollgate-config.js';
import { MAX_UPSTREAM_NAME_LENGTH, resolveUpstream } from '../../src/engine/upstream-resolver.js';

const SOURCES: UpstreamSource[] = [
  { kind: 'attribute', name: 'xds.cluster_name' },
  { kind: 'header', name: 'x-tollgate-upstream' },
  { kind: 'authority' },
];

function facts(headers: Record<string, string>, attributes: Record<string, string> = {}) {
  return {
    headers: new Map(Object.entries(headers)),
    attributes: new Map(Object.entries(attributes)),
  };
}

describe('resolveUpstream', () => {
  const cases = [
    {
      name: 'takes the attribute over the header and the authority',
      facts: facts({ 'x-tollgate-upstream': 'h', ':authority': 'a' }, { 'xds.cluster_name': 'c' }),
      expected: 'c',
    },
    {
      name: 'falls back to the header when no attribute is sent',
      facts: facts({ 'x-tollgate-upstream': 'h', ':authority': 'a' }),
      expected: 'h',
    },
    {
      name: 'falls back to :authority, then host',
      facts: facts({ host: 'legacy.example:8080' }),
      expected: 'legacy.example:8080',
    },
    {
      name: 'skips a value with control characters',
      facts: facts({ 'x-tollgate-upstream': 'evil\r\nname', ':authority': 'a' }),
      expected: 'a',
    },
    {
      name: 'skips a value with invalid UTF-8 (decoded as U+FFFD)',
      facts: facts({ 'x-tollgate-upstream': 'bad\ufffdname', ':authority': 'a' }),
      expected: 'a',
    },
    {
      name: 'skips a value over the length limit',
      facts: facts({
        'x-tollgate-upstream': 'x'.repeat(MAX_UPSTREAM_NAME_LENGTH + 1),
        ':authority': 'a',
      }),
      expected: 'a',
    },
    { name: 'returns undefined when nothing is usable', facts: facts({}), expected: undefined },
  ];

  for (const { name, facts: input, expected } of cases) {
    it(name, () => {
      assert.equal(resolveUpstream(SOURCES, input), expected);
    });
  }
});
