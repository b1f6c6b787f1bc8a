import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { requestIdOf } from '../../src/engine/request-facts.js';

const facts = (header?: string, attribute?: string) => ({
  headers: new Map(header === undefined ? [] : [['x-request-id', header]]),
  attributes: new Map(attribute === undefined ? [] : [['request.id', attribute]]),
});

describe('requestIdOf', () => {
  const cases = [
    { what: 'the header', header: 'b1d3-42', attribute: 'attr', id: 'b1d3-42' },
    { what: 'the attribute without a header', attribute: 'attr-9', id: 'attr-9' },
    { what: 'the attribute when the header has CR LF', header: 'a\r\nb', attribute: 'x', id: 'x' },
    { what: 'nothing for a NUL byte', header: 'a\u0000b', id: undefined },
    { what: 'nothing for ANSI escapes', header: '\u001b[31mred', id: undefined },
    { what: 'nothing for a 201-character id', header: 'r'.repeat(201), id: undefined },
    { what: 'a 200-character id', header: 'r'.repeat(200), id: 'r'.repeat(200) },
    { what: 'nothing for an empty header', header: '', id: undefined },
  ];

  for (const { what, header, attribute, id } of cases) {
    it(`reads ${what}`, () => {
      assert.equal(requestIdOf(facts(header, attribute)), id);
    });
  }
});
