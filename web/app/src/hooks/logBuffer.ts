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

/** Fields the server erases from a forgotten member's events (their key is destroyed). */
export const PERSONAL_FIELDS = ["email", "displayName", "bio"] as const;

export class LogBuffer {
  readonly events: LogEvent[] = [];
  /** How many events the list shows: held still while paused. */
  shown = 0;
  paused = false;
  private last = -1n;

  /** `types`: the event types to list (all when null); a UserForgotten is always applied. */
  constructor(private readonly types: ReadonlySet<string> | null = null) {}

  /**
   * Appends an event unless it was already seen (a resumed subscription can
   * repeat one) or filtered out; true when what is shown may have changed.
   */
  add(event: LogEvent): boolean {
    const position = BigInt(event.position);
    if (position <= this.last) return false;
    this.last = position;
    const erased = event.type === "UserForgotten" && this.forget(event);
    if (this.types && !this.types.has(event.type)) return erased;
    this.events.push(event);
    if (!this.paused) this.shown = this.events.length;
    return true;
  }

  /**
   * A member was forgotten: the events already held show their personal
   * fields erased, as the server now serves them to everyone.
   */
  private forget(forgotten: LogEvent): boolean {
    let changed = false;
    const userId = (forgotten.data as { userId?: unknown } | null)?.userId ?? forgotten.streamId;
    this.events.forEach((event, index) => {
      const data = event.data as Record<string, unknown> | null;
      if (!data || (event.streamId !== forgotten.streamId && data.userId !== userId)) return;
      const erased = { ...data };
      for (const field of PERSONAL_FIELDS) if (field in erased) erased[field] = null;
      this.events[index] = { ...event, data: erased };
      changed = true;
    });
    return changed;
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
