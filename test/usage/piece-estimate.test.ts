import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import { estimateTokens } from '../../src/usage/request/piece-estimate.js';

const PROSE =
  'Shipment SH-20931 left the Rotterdam hub on 2024-11-02 and shipment SH-20944 left Antwerp ' +
  'on 2024-11-03. Both were due in Milan by 2024-11-06 but only the first one arrived. ';

const CODE = `export function ceilingOf(rule: CeilingRule, allowance: number): number {
  return Math.floor(allowance * (1 + rule.burstAllowance));
}
`;

const MARKDOWN = `| key | default | meaning |
| --- | ------- | ------- |
| \`tokenize_max_chars\` | \`512\` | longest prompt tokenized exactly |
`;

/** Text, and the bounds of estimate / exact the estimate must stay within. */
const CASES: Array<[string, string, number, number]> = [
  ['English prose', PROSE.repeat(6), 0.95, 1.3],
  ['TypeScript', CODE.repeat(6), 1.0, 1.3],
  ['a Markdown table', MARKDOWN.repeat(6), 1.0, 1.6],
  [
    'German',
    'Die Sendung wird vom Zoll festgehalten, weil die Rechnung falsch ist. '.repeat(8),
    0.9,
    1.4,
  ],
  [
    'Russian',
    'Груз задержан на таможне, потому что в счёте указан неверный код. '.repeat(8),
    0.9,
    1.6,
  ],
  [
    'Chinese',
    '货运单号在安特卫普港被海关扣留，因为商业发票上的关税编码填写错误。'.repeat(8),
    0.9,
    1.6,
  ],
  ['emoji', '🚚📦✅ shipment ok 🎉 '.repeat(20), 0.9, 1.4],
];

describe('estimateTokens', () => {
  for (const [name, text, low, high] of CASES) {
    it(`stays within ${low}–${high}× the o200k count for ${name}`, () => {
      const ratio = estimateTokens(text) / countTokens(text);

      assert.ok(ratio >= low && ratio <= high, `${name}: ${ratio.toFixed(2)}`);
    });
  }

  it('counts nothing in an empty text and one token for a short word', () => {
    assert.equal(estimateTokens(''), 0);
    assert.equal(estimateTokens('hello'), 1);
  });

  it('splits words before an upper-case letter that follows lower-case ones', () => {
    assert.equal(estimateTokens('camelCaseName'), 3);
  });
});
