import { describe, expect, it, vi } from "vitest";
import { Connection } from "./connection";
import { Session } from "./session";

/**
 * A stand-in for the server's socket: it refuses a connection_init carrying
 * a token with 4403 (as the server does for an invalid or expired token) and
 * acknowledges an anonymous one.
 */
class RefusingSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static inits: Record<string, unknown>[] = [];
  readyState = RefusingSocket.CONNECTING;
  protocol = "graphql-transport-ws";
  onopen: (() => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;

  constructor() {
    setTimeout(() => {
      this.readyState = RefusingSocket.OPEN;
      this.onopen?.();
    }, 0);
  }

  send(data: string) {
    const message = JSON.parse(data) as { type: string; payload?: Record<string, unknown> };
    if (message.type !== "connection_init") return;
    RefusingSocket.inits.push(message.payload ?? {});
    setTimeout(() => {
      if (message.payload?.authToken) this.close(4403, "Forbidden");
      else this.onmessage?.({ data: JSON.stringify({ type: "connection_ack" }) });
    }, 0);
  }

  close(code = 1000, reason = "") {
    if (this.readyState === RefusingSocket.CLOSED) return;
    this.readyState = RefusingSocket.CLOSED;
    setTimeout(() => this.onclose?.({ code, reason, wasClean: true }), 0);
  }
}

describe("Connection", () => {
  it("signs the member out on 4403 and reconnects anonymously instead of looping on the token", async () => {
    const session = new Session(null);
    session.signIn("expired-token", { id: "u1", username: "ada", displayName: "Ada" });
    const connection = new Connection("ws://test/graphql", session, RefusingSocket);
    connection.retry(); // no waiting for the backoff in a test
    await vi.waitFor(() => expect(connection.get().state).toBe("live"), { timeout: 5000, interval: 20 });
    expect(session.get().expired).toBe(true);
    expect(RefusingSocket.inits.map((init) => init.authToken ?? null)).toEqual(["expired-token", null]);
    await connection.client.dispose();
  });
});
