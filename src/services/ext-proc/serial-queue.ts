/**
 * Runs tasks one after another, in the order they were given. A task that
 * finishes synchronously costs no promise or microtask, which keeps the common
 * all-synchronous stream cheap; once a task returns a promise, later tasks
 * wait for it.
 */
export class SerialQueue {
  private tail: Promise<void> | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Runs `task` now if nothing is pending, else after everything queued before it. */
  run(task: () => void | Promise<void>): void {
    if (this.tail) {
      this.chain(this.tail.then(task));
      return;
    }

    try {
      const result = task();
      if (result) this.chain(result);
    } catch (error) {
      this.onError(error);
    }
  }

  private chain(next: Promise<void>): void {
    const tail = next.catch(this.onError).finally(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
