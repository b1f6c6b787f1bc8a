import type { PeriodKey } from './budget-store.js';
import type { PeriodRow, PeriodWrite } from './embedded-budget-file.js';

/** An open reservation: its tokens, until it is settled, released or expires. */
interface OpenReservation {
  readonly tokens: number;
  expiresAtMs: number;
}

/**
 * One tenant's period as the embedded store holds it in memory: the settled
 * usage read from the file (and kept ahead of it until the next commit), the
 * fired alert marks, and the open reservations, which exist only here.
 */
export class PeriodState {
  /** Whether the file has, or after the next commit will have, a row for the period. */
  recorded: boolean;
  used: number;
  endMs: number;
  keepUntilMs: number;
  reserved = 0;
  readonly reservations = new Map<string, OpenReservation>();
  readonly marks: Set<string>;
  /** Changed since the last commit. */
  dirty = false;
  private marksCleared = false;
  private newMarks: string[] = [];

  constructor(
    readonly tenant: string,
    readonly startMs: number,
    row: PeriodRow | undefined,
    fallback: { endMs: number; keepUntilMs: number },
  ) {
    this.recorded = row !== undefined;
    this.used = row?.used ?? 0;
    this.endMs = row?.endMs ?? fallback.endMs;
    this.keepUntilMs = row?.keepUntilMs ?? fallback.keepUntilMs;
    this.marks = new Set(row?.marks);
  }

  /** Gives the period a row, with the key's end and keep time when it had none. */
  record(key: PeriodKey): void {
    if (this.recorded) return;

    this.recorded = true;
    this.endMs = key.endMs;
    this.keepUntilMs = key.keepUntilMs;
    this.dirty = true;
  }

  /** Adds settled tokens. */
  charge(tokens: number): void {
    this.used += tokens;
    this.dirty = true;
  }

  reserve(id: string, tokens: number, expiresAtMs: number): void {
    this.reservations.set(id, { tokens, expiresAtMs });
    this.reserved += tokens;
  }

  /** Drops the reservation; false when it is not open (settled, released, expired). */
  drop(id: string): boolean {
    const reservation = this.reservations.get(id);
    if (!reservation) return false;

    this.reservations.delete(id);
    this.reserved -= reservation.tokens;
    return true;
  }

  /** Marks `threshold` fired; false when it already was this period. */
  mark(threshold: string): boolean {
    if (this.marks.has(threshold)) return false;

    this.marks.add(threshold);
    this.newMarks.push(threshold);
    this.dirty = true;
    return true;
  }

  /** Back to zero: used, reservations and alert marks. */
  reset(key: PeriodKey): void {
    this.reservations.clear();
    this.reserved = 0;
    this.used = 0;
    this.marks.clear();
    this.marksCleared = true;
    this.newMarks = [];
    this.record(key);
    this.dirty = true;
  }

  /** Drops reservations expired at `nowMs`; returns the earliest expiry left. */
  sweep(nowMs: number): number {
    let earliest = Infinity;
    for (const [id, reservation] of this.reservations) {
      if (reservation.expiresAtMs <= nowMs) this.drop(id);
      else earliest = Math.min(earliest, reservation.expiresAtMs);
    }
    return earliest;
  }

  /** What the next commit writes, and the state marked clean as if it had. */
  takeWrite(): PeriodWrite {
    const write: PeriodWrite = {
      tenant: this.tenant,
      startMs: this.startMs,
      endMs: this.endMs,
      keepUntilMs: this.keepUntilMs,
      used: this.used,
      marksCleared: this.marksCleared,
      newMarks: this.newMarks,
    };
    this.dirty = false;
    this.marksCleared = false;
    this.newMarks = [];
    return write;
  }

  /** After a failed commit: the next commit writes the whole period again. */
  unsaved(): void {
    this.dirty = true;
    this.marksCleared = true;
    this.newMarks = [...this.marks];
  }
}
