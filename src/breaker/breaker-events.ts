import type { BreakerStateKind } from './breaker-state.js';

/** Why a breaker moved from one state to another. */
export type BreakerTransitionReason =
  | 'failure_threshold'
  | 'timeout_elapsed'
  | 'trial_failed'
  | 'success_threshold'
  | 'manual_reset'
  | 'forced_open';

/** A breaker changed state. Emitted exactly once per transition. */
export interface BreakerTransition {
  /** Name of the breaker, which is the upstream it guards. */
  readonly breaker: string;
  readonly from: BreakerStateKind;
  readonly to: BreakerStateKind;
  readonly reason: BreakerTransitionReason;

  /** Wall-clock milliseconds since the Unix epoch when the transition happened. */
  readonly atWallMs: number;
}

/** A breaker turned a request away. */
export interface BreakerRejection {
  /** Name of the breaker, which is the upstream it guards. */
  readonly breaker: string;

  /** `open`, or `half_open` when every trial slot was taken. */
  readonly state: BreakerStateKind;

  /** Whole seconds, at least 1, the client should wait before retrying. */
  readonly retryAfterSeconds: number;
}

/**
 * A new upstream found no breaker because `max_dynamic_breakers` were
 * already made; its requests pass unguarded. Emitted once per cap (again
 * after a reload that changes the cap).
 */
export interface BreakerCapReached {
  /** The first upstream left without a breaker. */
  readonly upstream: string;
  readonly maxDynamic: number;
}

/**
 * Every `from` → `to` pair a breaker can make: the closed/open/half-open cycle,
 * a manual reset from any state (closed → closed clears failures) and a
 * forced open of a breaker that was open on a timer. Metrics start each pair
 * at zero, so a rate over it exists before the first transition.
 */
export const POSSIBLE_TRANSITIONS: ReadonlyArray<
  readonly [from: BreakerStateKind, to: BreakerStateKind]
> = [
  ['closed', 'open'],
  ['closed', 'closed'],
  ['open', 'half_open'],
  ['open', 'closed'],
  ['open', 'open'],
  ['half_open', 'open'],
  ['half_open', 'closed'],
];

/** A breaker joined or left a set: made for a new upstream, or dropped by a reload. */
export interface BreakerMembership {
  /** Name of the breaker, which is the upstream it guards. */
  readonly breaker: string;
}

/** Removes the listener it was returned for. Calling it again does nothing. */
export type Unsubscribe = () => void;

type Listener<E> = (event: E) => void;

/**
 * The typed events of one or more breakers, observed by metrics and logs.
 * Listeners run synchronously, in subscription order, after the breaker's
 * state has changed.
 */
export class BreakerEvents {
  private readonly transitionListeners = new Set<{ fn: Listener<BreakerTransition> }>();
  private readonly rejectionListeners = new Set<{ fn: Listener<BreakerRejection> }>();
  private readonly capListeners = new Set<{ fn: Listener<BreakerCapReached> }>();
  private readonly addedListeners = new Set<{ fn: Listener<BreakerMembership> }>();
  private readonly removedListeners = new Set<{ fn: Listener<BreakerMembership> }>();

  /** Calls `listener` on every state change. */
  onTransition(listener: Listener<BreakerTransition>): Unsubscribe {
    return subscribe(this.transitionListeners, listener);
  }

  /** Calls `listener` on every rejected request. */
  onRejection(listener: Listener<BreakerRejection>): Unsubscribe {
    return subscribe(this.rejectionListeners, listener);
  }

  /** Calls `listener` when the dynamic breaker cap first leaves an upstream unguarded. */
  onCapReached(listener: Listener<BreakerCapReached>): Unsubscribe {
    return subscribe(this.capListeners, listener);
  }

  /** Calls `listener` when a set makes a breaker after its construction. */
  onAdded(listener: Listener<BreakerMembership>): Unsubscribe {
    return subscribe(this.addedListeners, listener);
  }

  /** Calls `listener` when a reload drops a breaker from its set. */
  onRemoved(listener: Listener<BreakerMembership>): Unsubscribe {
    return subscribe(this.removedListeners, listener);
  }

  /** Delivers a transition to every listener. Never throws. */
  emitTransition(event: BreakerTransition): void {
    deliver(this.transitionListeners, event);
  }

  /** Delivers a rejection to every listener. Never throws. */
  emitRejection(event: BreakerRejection): void {
    deliver(this.rejectionListeners, event);
  }

  /** Delivers a cap event to every listener. Never throws. */
  emitCapReached(event: BreakerCapReached): void {
    deliver(this.capListeners, event);
  }

  /** Delivers a new breaker to every listener. Never throws. */
  emitAdded(event: BreakerMembership): void {
    deliver(this.addedListeners, event);
  }

  /** Delivers a dropped breaker to every listener. Never throws. */
  emitRemoved(event: BreakerMembership): void {
    deliver(this.removedListeners, event);
  }
}

// Each subscription gets its own entry, so subscribing the same function twice
// delivers twice and each unsubscribe removes only its own subscription.
function subscribe<E>(listeners: Set<{ fn: Listener<E> }>, fn: Listener<E>): Unsubscribe {
  const entry = { fn };
  listeners.add(entry);

  return () => {
    listeners.delete(entry);
  };
}

function deliver<E>(listeners: Set<{ fn: Listener<E> }>, event: E): void {
  // A copy, so a listener that subscribes or unsubscribes during delivery
  // changes the next delivery, not this one.
  for (const { fn } of [...listeners]) {
    try {
      fn(event);
    } catch {
      // Observers must not break the request path or leave a transition half
      // done; a listener that throws is the listener's bug, so it is dropped
      // for this event only.
    }
  }
}
