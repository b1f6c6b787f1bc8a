import { FieldReader } from './field-reader.js';
import {
  layoutPaths,
  layoutRoots,
  readUsage,
  type ProviderExtractor,
  type UsageLayout,
} from './extraction.js';
import { anyWord } from './text-signals.js';

// Anthropic's input_tokens leaves out the tokens read from and written to the
// cache, so the normalised input adds them back; they are then its parts.
const LAYOUT: UsageLayout = {
  input: [
    'usage.input_tokens',
    'usage.cache_read_input_tokens',
    'usage.cache_creation_input_tokens',
  ],
  cachedInput: ['usage.cache_read_input_tokens'],
  cacheCreation: ['usage.cache_creation_input_tokens'],
  output: ['usage.output_tokens'],
};

/**
 * Anthropic Messages. A body is a `message` with `usage` and `model` at the
 * top. A stream's `message_start` carries the message (input and cache counts,
 * a first output count) under `message`; each `message_delta` carries
 * cumulative counts under `usage` (output, and on newer APIs input and cache
 * too); `message_stop` ends it.
 */
export const anthropicMessages: ProviderExtractor = {
  extract(document) {
    const reader = new FieldReader(document);
    const type = reader.value('type');
    const prefix = type === 'message_start' ? 'message.' : '';

    const usage = readUsage(reader, LAYOUT, prefix);
    const model = reader.name(`${prefix}model`);
    // message_delta comes once, at the end, with the cumulative output; a
    // whole message body is final too. message_start's output is a placeholder.
    const final = type === 'message_delta' || type === 'message';
    return { usage, model, rejected: reader.rejected, terminal: type === 'message_stop', final };
  },
  bodyPaths: [...layoutPaths(LAYOUT), 'model', 'type'],
  mayMatter: anyWord([...layoutRoots(LAYOUT), 'message_stop']),
};
