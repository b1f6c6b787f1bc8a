import { createLogger, type Logger } from '../../src/admin/logger.js';

/** A log line as pino wrote it, parsed. */
export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A logger that keeps its JSON lines in memory, so tests can assert on log output. */
export class LogSink {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly logger: Logger;

  constructor(level = 'debug') {
    this.logger = createLogger(level, {
      write: (text: string) => {
        this.raw.push(text);
        this.lines.push(JSON.parse(text) as LogLine);
      },
    });
  }

  /** Lines whose message contains `fragment`. */
  find(fragment: string): LogLine[] {
    return this.lines.filter((line) => line.msg.includes(fragment));
  }
}
