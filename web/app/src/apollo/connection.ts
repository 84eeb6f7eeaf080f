// The one websocket of the app (graphql-ws), and its state for the indicator.
import { createClient, type Client } from "graphql-ws";
import type { Session } from "./session";

export type ConnectionState = "live" | "reconnecting" | "offline";

export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Bumped on every reconnect after the first connection: live views catch up. */
  reconnects: number;
}

type Listener = () => void;

/** After this many failed attempts in a row the indicator says "Offline". */
const ATTEMPTS_BEFORE_OFFLINE = 3;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_RESTART = 4205;

export class Connection {
  readonly client: Client;
  private snapshot: ConnectionSnapshot = { state: "reconnecting", reconnects: 0 };
  private listeners = new Set<Listener>();
  private failures = 0;
  private connectedOnce = false;
  private socket: WebSocket | null = null;
  private wakeUp: (() => void) | null = null;
  /** The token the current socket was opened with. */
  private socketToken: string | null = null;
  /** While a password change is under way, a 4403 on the old token is expected. */
  private tokenChanging = false;

  constructor(url: string, session: Session, webSocketImpl?: unknown) {
    this.client = createClient({
      url,
      ...(webSocketImpl ? { webSocketImpl } : {}),
      lazy: false,
      retryAttempts: Number.POSITIVE_INFINITY,
      connectionParams: () => {
        const { token } = session.get();
        this.socketToken = token;
        const minPosition = session.minPosition();
        return {
          ...(token ? { authToken: token } : {}),
          ...(minPosition ? { minPosition } : {}),
        };
      },
      // A refused token (4403) signs the member out and sends them to sign in;
      // the retry then connects anonymously, so it never loops on the token.
      // A socket opened with a token the session has since replaced (a
      // password change retires the old one) just reconnects with the new one.
      shouldRetry: (errOrClose) => {
        if (
          isClose(errOrClose) &&
          errOrClose.code === CLOSE_FORBIDDEN &&
          !this.tokenChanging &&
          session.get().token === this.socketToken
        ) {
          session.expire();
        }
        return true;
      },
      retryWait: (retries) =>
        new Promise<void>((resolve) => {
          const delay = Math.min(1000 * 2 ** retries, 10_000) + Math.random() * 300;
          const timer = setTimeout(done, delay);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          this.wakeUp = done;
        }),
      on: {
        opened: (socket) => {
          this.socket = socket as WebSocket;
        },
        connected: () => {
          this.failures = 0;
          const reconnects = this.snapshot.reconnects + (this.connectedOnce ? 1 : 0);
          this.connectedOnce = true;
          this.set({ state: "live", reconnects });
        },
        closed: () => {
          this.socket = null;
          this.failures += 1;
          const state = this.failures >= ATTEMPTS_BEFORE_OFFLINE ? "offline" : "reconnecting";
          this.set({ ...this.snapshot, state });
        },
      },
    });
    if (typeof window !== "undefined") {
      window.addEventListener("online", () => this.retry());
    }
  }

  get = (): ConnectionSnapshot => this.snapshot;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Retry now instead of waiting for the next attempt. */
  retry(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    this.failures = Math.min(this.failures, ATTEMPTS_BEFORE_OFFLINE - 1);
    if (this.snapshot.state === "offline") this.set({ ...this.snapshot, state: "reconnecting" });
    wakeUp?.();
  }

  /**
   * A password change is under way (`true`) or over (`false`): the server
   * closes sockets of the retired token with 4403, which then does not sign
   * the member out; once over, the socket reconnects with the session's token.
   */
  changingToken(changing: boolean): void {
    this.tokenChanging = changing;
    if (!changing) {
      this.restart();
      this.retry();
    }
  }

  /** Reconnect with new credentials (sign-in, sign-out); subscriptions resume. */
  restart(): void {
    this.socket?.close(CLOSE_RESTART, "Client Restart");
  }

  private set(next: ConnectionSnapshot): void {
    if (next.state === this.snapshot.state && next.reconnects === this.snapshot.reconnects) return;
    this.snapshot = next;
    this.listeners.forEach((listener) => listener());
  }
}

function isClose(value: unknown): value is CloseEvent {
  return typeof value === "object" && value !== null && "code" in value;
}
