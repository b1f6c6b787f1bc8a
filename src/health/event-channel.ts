/** Removes the listener it was returned for. Calling it again does nothing. */
export type Unsubscribe = () => void;

/**
 * One kind of typed event. Listeners run synchronously, in subscription
 * order; one that throws is skipped for that event, because an observer's
 * bug must not stop a probe round or an EDS push.
 */
export class EventChannel<E> {
  private readonly listeners = new Set<{ fn: (event: E) => void }>();

  /** Calls `listener` on every event from now on. */
  subscribe(listener: (event: E) => void): Unsubscribe {
    const entry = { fn: listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Delivers `event` to every listener. Never throws. */
  emit(event: E): void {
    // A copy, so that subscribing during delivery changes the next event only.
    for (const { fn } of [...this.listeners]) {
      try {
        fn(event);
      } catch {
        // The listener's own bug; the other listeners still get the event.
      }
    }
  }
}
