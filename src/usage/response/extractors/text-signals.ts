/**
 * A cheap test on a streamed document's raw text, run before parsing it: false
 * only when the document cannot state usage or end the response, so that it
 * can be passed over unparsed. It may say true for a document that turns out
 * not to matter (that costs one parse); it must never say false for one that
 * does (that would lose usage).
 */
export type TextSignal = (text: string) => boolean;

/** True when the text holds any of `words`. */
export function anyWord(words: readonly string[]): TextSignal {
  return (text) => words.some((word) => text.includes(word));
}

// JSON's whitespace: space, tab, LF, CR.
const WS = '[ \\t\\n\\r]*';

/**
 * True when the text may hold one of `keys` with a JSON object as its value:
 * `"key"`, optional whitespace, `:`, optional whitespace, `{`. A key whose
 * value is `null`, a number or an array (OpenAI's `"usage":null` in every
 * chunk of a stream) states no counts, since counts are read only from
 * objects. A key spelt with `\u` escapes (`"\u0075sage"`) is not matched by
 * that pattern, so text holding an escape of any of the keys' characters is
 * also passed on, to keep the test exact.
 *
 * The text must be a whole document (one SSE event's data, one NDJSON line):
 * a key split between two pieces of text would be missed.
 */
export function objectKey(keys: readonly string[]): TextSignal {
  const names = keys.map(escapeRegExp).join('|');
  const object = new RegExp(`"(?:${names})"${WS}:${WS}\\{`);
  const codes = [...new Set([...keys.join('')].map((c) => hex(c)))].join('|');
  const escaped = new RegExp(`\\\\u00(?:${codes})`, 'i');

  return (text) => object.test(text) || (text.includes('\\u') && escaped.test(text));
}

function hex(char: string): string {
  const code = char.charCodeAt(0);
  if (code > 0x7f) throw new RangeError(`objectKey takes ASCII keys, got ${char}`);
  return code.toString(16).padStart(2, '0');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
