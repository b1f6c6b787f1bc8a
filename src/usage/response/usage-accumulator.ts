import { detectFormat, extractUsage, mayMatter } from './provider-extractors.js';
import type { ProviderFormat } from '../token-usage.js';
import { mergeUsage, type PartialUsage } from './usage-values.js';

/** Why a body parser stopped reading or could not read the body. */
export type ParseFailure = 'invalid_json' | 'event_too_large';

/** What a body parser read from a whole response body. */
export interface BodyReading {
  /** The merged counts; absent when no document stated any. */
  readonly usage?: PartialUsage;
  /** The format the documents were read as (given, or detected from a shape). */
  readonly format?: ProviderFormat;
  /** The first model a document named. */
  readonly model?: string;
  /** Paths of the fields whose values were not trusted, once each. */
  readonly rejected: string[];
  /** Whether the body reached its normal end. */
  readonly complete: boolean;
  /** Whether a document stated final usage or ended the response (see `Extraction.final`). */
  readonly final?: boolean;
  /** Set when the parser stopped early or the body could not be read. */
  readonly failure?: ParseFailure;
}

/**
 * Collects what the documents of one response body say: usage merged count by
 * count (a later document never lowers an earlier count), the first model
 * named, every rejected field, and whether a terminal document was seen. When
 * the format is not known, each document's shape is tried until one matches;
 * that format is then kept for the rest of the body.
 */
export class UsageAccumulator {
  private usage: PartialUsage | undefined;
  private model: string | undefined;
  private readonly rejected = new Set<string>();
  private terminal = false;
  private final = false;

  constructor(private format: ProviderFormat | undefined) {}

  /** Whether a document marked the normal end of the response. */
  get ended(): boolean {
    return this.terminal;
  }

  /**
   * Reads JSON text as {@link add} does; false (reading nothing) when the text
   * is not JSON or nests past what the engine's parser handles. Once the
   * format and model are known, text that cannot state usage or end the
   * response is passed over unparsed (see `ProviderExtractor.mayMatter`).
   */
  addJson(text: string): boolean {
    if (this.format && this.model !== undefined && !mayMatter(text, this.format)) return true;

    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return false;
    }

    this.add(document);
    return true;
  }

  /**
   * Reads one parsed JSON document. A top-level array is read element by
   * element, as Gemini's `streamGenerateContent` sends its chunks without
   * `alt=sse`.
   */
  add(document: unknown): void {
    if (Array.isArray(document)) {
      for (const element of document) this.addOne(element);
      return;
    }
    this.addOne(document);
  }

  /** Records an end marker outside any document (`data: [DONE]`). */
  markEnded(): void {
    this.terminal = true;
  }

  /** What was read, with the parser's verdict on the body. */
  reading(complete: boolean, failure?: ParseFailure): BodyReading {
    return {
      usage: this.usage,
      format: this.format,
      model: this.model,
      rejected: [...this.rejected],
      complete,
      final: this.final || this.terminal,
      failure,
    };
  }

  private addOne(document: unknown): void {
    const format = this.format ?? detectFormat(document);
    if (format === undefined) return;

    this.format = format;
    const extraction = extractUsage(document, format);
    if (extraction.usage) {
      this.usage = this.usage ? mergeUsage(this.usage, extraction.usage) : extraction.usage;
    }

    this.model ??= extraction.model;
    for (const path of extraction.rejected) this.rejected.add(path);
    if (extraction.terminal) this.terminal = true;
    if (extraction.usage && extraction.final) this.final = true;
  }
}
