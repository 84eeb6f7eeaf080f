// The signed-in member, their token, and the log position their reads must
// reflect. One instance per app (created in main.tsx, passed to the Apollo
// client and to React through SessionContext); it persists to localStorage so
// that a reload keeps the member signed in.

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
}

export interface SessionSnapshot {
  token: string | null;
  user: SessionUser | null;
  /** Set when the server refused the token: the app sends the person to sign in. */
  expired: boolean;
}

const KEY = "chronicle.session";

type Listener = () => void;

export class Session {
  private snapshot: SessionSnapshot;
  private listeners = new Set<Listener>();
  /** Highest position of a write this tab made: sent as X-Min-Position. */
  private writePosition = 0n;
  /** Highest position this tab has seen from any source (writes, live updates). */
  private seenPosition = 0n;

  constructor(private readonly storage: Storage | null = safeLocalStorage()) {
    this.snapshot = { token: null, user: null, expired: false };
    const raw = this.storage?.getItem(KEY);
    if (raw) {
      try {
        const saved = JSON.parse(raw) as { token?: unknown; user?: SessionUser };
        if (typeof saved.token === "string" && saved.user) {
          this.snapshot = { token: saved.token, user: saved.user, expired: false };
        }
      } catch {
        this.storage?.removeItem(KEY);
      }
    }
  }

  get = (): SessionSnapshot => this.snapshot;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  signIn(token: string, user: SessionUser): void {
    this.storage?.setItem(KEY, JSON.stringify({ token, user }));
    this.set({ token, user, expired: false });
  }

  signOut(): void {
    this.storage?.removeItem(KEY);
    this.set({ token: null, user: null, expired: false });
  }

  /** The server refused the token (expired or revoked). */
  expire(): void {
    if (!this.snapshot.token) return;
    this.storage?.removeItem(KEY);
    this.set({ token: null, user: null, expired: true });
  }

  acknowledgeExpiry(): void {
    if (this.snapshot.expired) this.set({ ...this.snapshot, expired: false });
  }

  noteWrite(position: string): void {
    const value = toBigInt(position);
    if (value > this.writePosition) this.writePosition = value;
    this.noteSeen(position);
  }

  noteSeen(position: string): void {
    const value = toBigInt(position);
    if (value > this.seenPosition) this.seenPosition = value;
  }

  /** The position reads must reflect, or null before this tab wrote anything. */
  minPosition(): string | null {
    return this.writePosition > 0n ? this.writePosition.toString() : null;
  }

  lastSeenPosition(): string {
    return this.seenPosition.toString();
  }

  private set(next: SessionSnapshot): void {
    this.snapshot = next;
    this.listeners.forEach((listener) => listener());
  }
}

function toBigInt(position: string): bigint {
  return /^\d+$/.test(position) ? BigInt(position) : 0n;
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}
