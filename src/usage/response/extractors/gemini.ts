import { FieldReader } from './field-reader.js';
import {
  layoutPaths,
  layoutRoots,
  readUsage,
  type ProviderExtractor,
  type UsageLayout,
} from './extraction.js';
import { anyWord } from './text-signals.js';

// promptTokenCount counts cached content too. Tool-use prompt tokens and
// thinking tokens are counted apart from the prompt and the candidates, and
// totalTokenCount adds them all.
const LAYOUT: UsageLayout = {
  input: ['usageMetadata.promptTokenCount', 'usageMetadata.toolUsePromptTokenCount'],
  cachedInput: ['usageMetadata.cachedContentTokenCount'],
  output: ['usageMetadata.candidatesTokenCount', 'usageMetadata.thoughtsTokenCount'],
  reasoning: ['usageMetadata.thoughtsTokenCount'],
  total: ['usageMetadata.totalTokenCount'],
};

/**
 * Gemini `generateContent` bodies and `streamGenerateContent` chunks, each with
 * cumulative `usageMetadata`. A stream has no end marker: its last chunk is the
 * one whose candidate states a `finishReason` (or whose prompt was blocked).
 */
export const gemini: ProviderExtractor = {
  extract(document) {
    const reader = new FieldReader(document);
    const usage = readUsage(reader, LAYOUT);
    const model = reader.name('modelVersion');
    return { usage, model, rejected: reader.rejected, terminal: isLastChunk(reader) };
  },
  bodyPaths: [...layoutPaths(LAYOUT), 'modelVersion'],
  mayMatter: anyWord([...layoutRoots(LAYOUT), 'finishReason', 'blockReason']),
};

function isLastChunk(reader: FieldReader): boolean {
  if (typeof reader.value('promptFeedback.blockReason') === 'string') return true;

  const candidates = reader.value('candidates');
  if (!Array.isArray(candidates)) return false;
  return candidates.some((candidate) => new FieldReader(candidate).has('finishReason'));
}
