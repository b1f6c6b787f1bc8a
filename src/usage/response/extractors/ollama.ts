import { FieldReader } from './field-reader.js';
import {
  layoutPaths,
  layoutRoots,
  readUsage,
  type ProviderExtractor,
  type UsageLayout,
} from './extraction.js';
import { anyWord } from './text-signals.js';

const LAYOUT: UsageLayout = {
  input: ['prompt_eval_count'],
  output: ['eval_count'],
};

/**
 * Ollama's native `/api/chat` and `/api/generate`: NDJSON lines (or one object
 * when not streamed); the last has `done: true` and the counts.
 */
export const ollama: ProviderExtractor = {
  extract(document) {
    const reader = new FieldReader(document);
    const usage = readUsage(reader, LAYOUT);
    const model = reader.name('model');
    return { usage, model, rejected: reader.rejected, terminal: reader.value('done') === true };
  },
  bodyPaths: [...layoutPaths(LAYOUT), 'model'],
  mayMatter: anyWord([...layoutRoots(LAYOUT), 'done']),
};
