// The live log's events, kept outside React: catch-up can bring 100,000 of
// them, and the list re-renders once per animation frame, not per event.

export interface LogEvent {
  id: string;
  position: string;
  streamId: string;
  streamType: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  occurredAt: string;
  actorId?: string | null;
  correlationId?: string | null;
  causationId?: string | null;
}

export class LogBuffer {
  readonly events: LogEvent[] = [];
  /** How many events the list shows: held still while paused. */
  shown = 0;
  paused = false;
  private last = -1n;

  /** Appends an event unless it was already seen (a resumed subscription can repeat one). */
  add(event: LogEvent): boolean {
    const position = BigInt(event.position);
    if (position <= this.last) return false;
    this.last = position;
    this.events.push(event);
    if (!this.paused) this.shown = this.events.length;
    return true;
  }

  /** The position to resume from after a reconnect. */
  lastPosition(): string | null {
    return this.last >= 0n ? this.last.toString() : null;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.shown = this.events.length;
  }

  /** Events received while paused, not shown yet. */
  held(): number {
    return this.events.length - this.shown;
  }
}
