/**
 * Preloaded (`node --import`) into every server the load bench starts, so that
 * the floor and tollgate report their CPU time the same way: the parent sends
 * `{ type: 'cpu-usage' }` over the IPC channel and gets this process's own
 * `process.cpuUsage()` back. Nothing runs until asked.
 */

/** The question the bench sends over IPC. */
export interface CpuUsageQuestion {
  readonly type: 'cpu-usage';
}

/** The server's answer: its CPU time so far, in microseconds, and its resident memory. */
export interface CpuUsageAnswer {
  readonly type: 'cpu-usage';
  readonly userMicros: number;
  readonly systemMicros: number;
  readonly rssBytes: number;
}

function answer(message: unknown): void {
  if ((message as CpuUsageQuestion | undefined)?.type !== 'cpu-usage') return;

  const usage = process.cpuUsage();
  const reply: CpuUsageAnswer = {
    type: 'cpu-usage',
    userMicros: usage.user,
    systemMicros: usage.system,
    rssBytes: process.memoryUsage.rss(),
  };
  process.send?.(reply);
}

if (process.send) {
  process.on('message', answer);
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref();
}
