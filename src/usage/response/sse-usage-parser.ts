import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';

import { BodyLineSplitter } from './body-line-splitter.js';
import type { ProviderFormat } from '../token-usage.js';
import { UsageAccumulator, type BodyReading } from './usage-accumulator.js';

/** Settings of an {@link SseUsageParser}. */
export interface SseUsageParserOptions {
  /** The provider format, or undefined to detect it from the events' shapes. */
  readonly format?: ProviderFormat;
  /** The most bytes one event (its lines up to the blank line) may take. */
  readonly maxEventBytes: number;
}

const COLON = 0x3a;

/**
 * Reads usage from a `text/event-stream` body fed in chunks cut anywhere. Each
 * event's data is parsed as JSON and read as one document; `data: [DONE]` ends
 * the stream; data that is not JSON is skipped. Lines end at CRLF, LF or CR.
 *
 * Only the event being received is held. When it grows past `maxEventBytes`
 * (comment lines aside), reading stops and the result fails with
 * `event_too_large`, keeping what earlier events said. An event left without
 * its blank line when the body ends is still read.
 */
export class SseUsageParser {
  private readonly lines = new BodyLineSplitter(true);
  private readonly decoder = new TextDecoder();
  private readonly events: EventSourceParser;
  private readonly usage: UsageAccumulator;
  private eventBytes = 0;
  private failure: 'event_too_large' | undefined;
  private finished = false;

  constructor(private readonly options: SseUsageParserOptions) {
    this.usage = new UsageAccumulator(options.format);
    this.events = createParser({ onEvent: (event) => this.readEvent(event) });
  }

  /** Whether reading stopped early; later chunks are ignored. */
  get stopped(): boolean {
    return this.failure !== undefined;
  }

  /** Bytes held for the event being received. */
  get retainedBytes(): number {
    return this.eventBytes + this.lines.pendingBytes;
  }

  /** Reads one chunk of the body. */
  feed(chunk: Uint8Array): void {
    if (this.stopped || this.finished) return;

    this.lines.push(chunk, (line) => this.readLine(line));
    if (this.retainedBytes > this.options.maxEventBytes) this.stop();
  }

  /** Ends the body and returns what was read. `complete` means a terminal event came. */
  finish(): BodyReading {
    if (!this.stopped && !this.finished) {
      this.lines.flush((line) => this.readLine(line));
      this.events.feed('\n');
    }

    this.finished = true;
    return this.usage.reading(this.usage.ended && !this.stopped, this.failure);
  }

  private readLine(line: Uint8Array): boolean {
    if (line.length === 0) {
      this.eventBytes = 0;
      this.events.feed('\n');
      return true;
    }

    if (line[0] !== COLON) this.eventBytes += line.length + 1;
    if (this.eventBytes > this.options.maxEventBytes) {
      this.stop();
      return false;
    }

    this.events.feed(`${this.decoder.decode(line)}\n`);
    return true;
  }

  private readEvent(event: EventSourceMessage): void {
    const data = event.data.trim();
    if (data === '[DONE]') {
      this.usage.markEnded();
      return;
    }

    this.usage.addJson(data);
  }

  private stop(): void {
    this.failure = 'event_too_large';
    this.lines.clear();
    this.eventBytes = 0;
    this.events.reset();
  }
}
