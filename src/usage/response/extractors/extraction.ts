import { isEmptyUsage, type PartialUsage, type UsageCount } from '../usage-values.js';
import { FieldReader } from './field-reader.js';
import { objectKey, type TextSignal } from './text-signals.js';

/** What one JSON document (a body, an SSE event's data, an NDJSON line) says about usage. */
export interface Extraction {
  /** The counts it states; absent when it states none. */
  readonly usage?: PartialUsage;
  /** The model it names. */
  readonly model?: string;
  /** Paths of the fields whose values were not trusted (`usage.prompt_tokens`). */
  readonly rejected: string[];
  /** Whether it marks the normal end of the response. */
  readonly terminal?: boolean;
  /**
   * Whether the usage it states is the response's final count, even if the
   * end marker never follows (Anthropic's `message_delta`, OpenAI's usage
   * chunk). A terminal document is final too. Counts read from a document
   * that is neither, and never followed by one, may be a placeholder or a
   * running count (Anthropic's `message_start` says 1 output token).
   */
  readonly final?: boolean;
}

/** Reads usage from the documents of one provider format. */
export interface ProviderExtractor {
  /** Reads one parsed JSON document. Never throws, whatever its shape. */
  extract(document: unknown): Extraction;
  /**
   * The dotted paths of every leaf `extract` reads from a whole JSON response
   * body, so that a streaming JSON parser can keep those and drop the rest.
   */
  readonly bodyPaths: readonly string[];
  /**
   * False only when a document's raw text shows it neither states usage nor
   * ends the response (it lacks the usage container's name, the end marker,
   * or for OpenAI-style formats a usage *object*). Such a streamed document
   * can be passed over unparsed once the format and model are known: most
   * events of a stream are text deltas.
   */
  readonly mayMatter: TextSignal;
}

/**
 * Where a format states each normalised count: the provider fields whose sum
 * it is (Anthropic's input is `input_tokens + cache_read_input_tokens +
 * cache_creation_input_tokens`). Paths are relative to the usage's container.
 */
export type UsageLayout = Readonly<Partial<Record<UsageCount, readonly string[]>>>;

/**
 * The counts `layout` finds in the document, each field's path prefixed with
 * `prefix` (`message.` for Anthropic's `message_start`); undefined when the
 * document states none.
 */
export function readUsage(
  reader: FieldReader,
  layout: UsageLayout,
  prefix = '',
): PartialUsage | undefined {
  const usage: Partial<Record<UsageCount, number>> = {};
  for (const [name, paths] of Object.entries(layout) as [UsageCount, readonly string[]][]) {
    const count = reader.sum(paths.map((path) => prefix + path));
    if (count !== undefined) usage[name] = count;
  }
  return isEmptyUsage(usage) ? undefined : usage;
}

/** The names of the top-level fields that hold `layout`'s counts, once each. */
export function layoutRoots(layout: UsageLayout): string[] {
  return [...new Set(layoutPaths(layout).map((path) => path.split('.')[0] ?? path))];
}

/** Every provider field path `layout` reads, once each. */
export function layoutPaths(layout: UsageLayout): string[] {
  return [...new Set(Object.values(layout).flat())];
}

/**
 * An extractor for a format whose documents keep usage in one object and name
 * the model in one field, with no terminal document of their own. A document
 * matters only when its text holds the usage container's key with an object
 * value: OpenAI sends `"usage":null` in every chunk of a stream that asked for
 * usage, and parsing each of those would cost most of the reading time.
 */
export function layoutExtractor(
  layout: UsageLayout,
  modelPath: string,
  /** Whether a document's usage is the final count (see {@link Extraction.final}). */
  isFinal: (reader: FieldReader) => boolean,
): ProviderExtractor {
  return {
    extract(document) {
      const reader = new FieldReader(document);
      const usage = readUsage(reader, layout);
      const model = reader.name(modelPath);
      const final = usage !== undefined && isFinal(reader);
      return { usage, model, rejected: reader.rejected, final };
    },
    bodyPaths: [...layoutPaths(layout), modelPath],
    mayMatter: objectKey(layoutRoots(layout)),
  };
}
