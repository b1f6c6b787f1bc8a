import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** `global.gc`, made available without `--expose-gc` on the command line. */
function gc(): () => void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/** What a leak check compares: memory in use after full collections, and live handles. */
export interface ProcessGauge {
  readonly heapUsedBytes: number;
  /** Buffers live outside the JS heap (message bodies arrive in these). */
  readonly arrayBufferBytes: number;
  readonly handles: number;
}

/**
 * Collects garbage until the heap stops shrinking (at most five rounds, with
 * a turn of the event loop between, so that closed sockets and finished
 * timers are released) and reads the heap and the active handles.
 */
export async function gaugeProcess(): Promise<ProcessGauge> {
  let heap = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    gc()();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = process.memoryUsage().heapUsed;
    if (now >= heap * 0.99) break;
    heap = now;
  }
  const memory = process.memoryUsage();
  return {
    heapUsedBytes: memory.heapUsed,
    arrayBufferBytes: memory.arrayBuffers,
    handles: process.getActiveResourcesInfo().length,
  };
}
